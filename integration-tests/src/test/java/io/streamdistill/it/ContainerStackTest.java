package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.localstack.TopicSetup;
import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The exactly-once and dead-letter scenarios on containers (an Apache Kafka image and Apicurio
 * Registry's image) instead of the embedded stack, where a Docker engine runs; skipped cleanly
 * where none does (as on the 2-core build machine).
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainerStackTest {
    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.1.0");

    @Container
    static final GenericContainer<?> REGISTRY = new GenericContainer<>("apicurio/apicurio-registry-mem:2.6.13.Final")
            .withExposedPorts(8080)
            .waitingFor(Wait.forHttp("/apis/ccompat/v7/subjects").forStatusCode(200).withStartupTimeout(Duration.ofMinutes(3)));

    /** A teacher stopped mid-stream and started again, on containers: each id once across soft targets and dead letters. */
    @Test
    void aRestartedTeacherOnContainersLosesAndDuplicatesNothing() throws Exception {
        String bootstrap = KAFKA.getBootstrapServers();
        String registryUrl = "http://" + REGISTRY.getHost() + ":" + REGISTRY.getMappedPort(8080) + "/apis/ccompat/v7";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            TopicSetup.ensureTopics(admin, List.of(new NewTopic("text", 2, (short) 1), new NewTopic("soft", 1, (short) 1),
                    new NewTopic("dead", 1, (short) 1)), Duration.ofSeconds(60));
        }
        Map<String, String> settings = Map.of("bootstrap.servers", bootstrap, "schema.registry.url", registryUrl,
                "input.topic", "text", "output.topic", "soft", "dead.letter.topic", "dead", "group.id", "tc-teacher",
                "transactional.id", "tc-teacher", "poll.max.records", "20");
        List<String> ids = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 200; i++) {
                String id = "tc-" + i;
                byte[] value = i % 50 == 7 ? new byte[] {(byte) 0xC3, 0x28} : ("container sentence " + i).getBytes(StandardCharsets.UTF_8);
                p.send(new ProducerRecord<>("text", id.getBytes(StandardCharsets.UTF_8), value));
                ids.add(id);
            }
        }
        try (RunningTeacher first = RunningTeacher.start(settings)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (first.service.metrics().softTargets() < 60 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        }
        try (RunningTeacher second = RunningTeacher.start(settings)) {
            SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.builder(registryUrl).build());
            AvroDeserializer<SoftTarget> st = new AvroDeserializer<>(registry, SoftTarget.class);
            AvroDeserializer<DeadLetter> dl = new AvroDeserializer<>(registry, DeadLetter.class);
            Map<String, Long> counts = Map.of();
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (counts.size() < ids.size() && System.nanoTime() < deadline) {
                List<String> seen = new ArrayList<>();
                KafkaIO.readCommitted(bootstrap, "soft", Duration.ofSeconds(2)).forEach(r -> seen.add(st.deserialize("soft", r.value()).getId()));
                KafkaIO.readCommitted(bootstrap, "dead", Duration.ofMillis(500)).forEach(r -> {
                    DeadLetter d = dl.deserialize("dead", r.value());
                    assertThat(d.getReason()).isEqualTo("INVALID_UTF8");
                    seen.add(StandardCharsets.UTF_8.decode(d.getOriginalKey()).toString());
                });
                counts = seen.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
            }
            assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(counts.values()).allMatch(c -> c == 1);
        }
    }

    /** The whole pipeline on containers: teacher, trainer job, monitor (the scenario {@link PipelineScenario} also runs embedded). */
    @Test
    void theWholePipelineRunsOnContainers(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        String bootstrap = KAFKA.getBootstrapServers();
        String registryUrl = "http://" + REGISTRY.getHost() + ":" + REGISTRY.getMappedPort(8080) + "/apis/ccompat/v7";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            PipelineScenario.run(bootstrap, registryUrl, name -> {
                TopicSetup.ensureTopics(admin, List.of(new NewTopic("e2e-" + name, 1, (short) 1)), Duration.ofSeconds(60));
                return "e2e-" + name;
            }, dir);
        }
    }
}
