package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The schema registry unreachable at start-up and again mid-run (a proxy in front of the real one switched off). */
class RegistryUnavailableTest {

    /**
     * The teacher waits for the registry with backoff and says so on /ready (503 with the reason); it
     * consumes nothing it cannot publish, recovers on its own when the registry returns, and every
     * input id comes out exactly once with no dead letter, including records whose schema it first
     * meets during the outage.
     */
    @Test
    void theTeacherWaitsReportsNotReadyLosesNothingAndRecovers() throws Exception {
        TestTopics t = TestTopics.create("regdown");
        URI real = URI.create(SharedStack.get().registryUrl());
        try (TcpProxy proxy = new TcpProxy(real.getHost(), real.getPort());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", SharedStack.get().bootstrapServers()),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            Map<String, String> settings = new java.util.HashMap<>(t.teacherSettings());
            settings.put("schema.registry.url", "http://127.0.0.1:" + proxy.port() + real.getPath());
            settings.put("schema.registry.retry.timeout.ms", "2000");
            AvroSerializer<org.apache.avro.generic.GenericContainer> direct = new AvroSerializer<>(SharedStack.registryClient());

            // 1. Registry down at start: records wait, /ready says why.
            try (RunningTeacher teacher = RunningTeacher.start(settings)) {
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    send(producer, t.in(), "text-" + i, ("plain sentence " + i).getBytes(StandardCharsets.UTF_8), ids);
                    send(producer, t.in(), "avro-" + i, direct.serialize(t.in(), event("avro-" + i)), ids);
                }
                Thread.sleep(4000);
                HttpResponse<String> ready = teacher.get("/ready");
                assertThat(ready.statusCode()).isEqualTo(503);
                assertThat(ready.body()).contains("not ready: schema registry");
                assertThat(teacher.get("/health").statusCode()).as("waiting is not failing").isEqualTo(200);
                assertThat(KafkaIO.readRaw(t.out(), 0)).as("nothing published without the registry").isEmpty();

                proxy.up();
                awaitReady(teacher, 200, Duration.ofSeconds(60));
                assertExactlyOnce(t, ids);

                // 2. Down again mid-run, while records arrive in a schema version the teacher has not met yet.
                proxy.down();
                Schema v2 = evolvedTextEvent();
                for (int i = 0; i < 20; i++) {
                    GenericRecord r = new GenericData.Record(v2);
                    r.put("id", "v2-" + i);
                    r.put("text", "written with a newer schema " + i);
                    r.put("eventTime", Instant.now().toEpochMilli());
                    r.put("attributes", Map.of());
                    r.put("campaign", "autumn");
                    send(producer, t.in(), "v2-" + i, direct.serialize(t.in(), r), ids);
                }
                awaitReady(teacher, 503, Duration.ofSeconds(30));
                assertThat(teacher.get("/ready").body()).contains("schema registry");
                Thread.sleep(2000);
                proxy.up();
                awaitReady(teacher, 200, Duration.ofSeconds(60));
                assertExactlyOnce(t, ids);
                assertThat(KafkaIO.readRaw(t.dead(), 0)).as("an outage is not the records' fault").isEmpty();
                assertThat(teacher.service.metrics().aborts()).as("transactions aborted and retried").isPositive();
            }
        }
    }

    /**
     * The trainer reads soft targets while the registry is unreachable: its task fails and restarts (Flink's restart
     * strategy) instead of passing the records over, and once the registry returns it trains on every record, once.
     * Before, each record it could not read was skipped and its offset committed: a student trained on nothing.
     */
    @Test
    void theTrainerWaitsOutAnOutageAndTrainsOnEveryRecordOnce(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        TestTopics t = TestTopics.create("trainer-regdown");
        String checkpoints = SharedStack.newTopic("trainer-regdown-checkpoints", 1);
        String trainerDead = SharedStack.newTopic("trainer-regdown-trainer-dead", 1);
        List<String> ids = new ArrayList<>();
        try (RunningTeacher teacher = RunningTeacher.start(t.teacherSettings());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", SharedStack.get().bootstrapServers()),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 150; i++) {
                send(producer, t.in(), "st-" + i, ("a sentence the trainer must not lose, number " + i).getBytes(StandardCharsets.UTF_8), ids);
            }
            assertExactlyOnce(t, ids);
        }
        URI real = URI.create(SharedStack.get().registryUrl());
        try (TcpProxy proxy = new TcpProxy(real.getHost(), real.getPort())) {
            io.streamdistill.trainer.TrainerConfig trainer = io.streamdistill.trainer.TrainerConfig.of(Map.ofEntries(
                    Map.entry("bootstrap.servers", SharedStack.get().bootstrapServers()),
                    Map.entry("schema.registry.url", "http://127.0.0.1:" + proxy.port() + real.getPath()),
                    Map.entry("schema.registry.retry.timeout.ms", "1000"), Map.entry("input.topic", t.out()),
                    Map.entry("output.topic", checkpoints), Map.entry("dead.letter.topic", trainerDead),
                    Map.entry("student.name", "regdown"), Map.entry("student.task", "EMBEDDING"),
                    Map.entry("student.output.dim", "384"), Map.entry("student.embedding.dim", "16"),
                    Map.entry("starting.offsets", "earliest"), Map.entry("export.every.records", "50"),
                    Map.entry("export.every.seconds", "1"), Map.entry("holdout.percent", "10"),
                    Map.entry("checkpoint.interval.ms", "1000"), Map.entry("gate.max.regression", "1"),
                    Map.entry("restore.from", "none"), Map.entry("group.id", checkpoints + "-trainer"),
                    Map.entry("transactional.id.prefix", checkpoints + "-trainer"),
                    Map.entry("artifact.dir", dir.resolve("artifacts").toUri().toString())));
            org.apache.flink.streaming.api.environment.StreamExecutionEnvironment env =
                    org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.createLocalEnvironment(1,
                            io.streamdistill.trainer.StudentTrainerJob.configure(trainer, dir.resolve("flink").toUri().toString()));
            io.streamdistill.trainer.StudentTrainerJob.enableCheckpointing(env, trainer);
            io.streamdistill.trainer.StudentTrainerJob.build(env, trainer);
            org.apache.flink.core.execution.JobClient job = env.executeAsync("trainer-registry-outage");
            try {
                Thread.sleep(6000);
                assertThat(KafkaIO.readCommitted(SharedStack.get().bootstrapServers(), checkpoints, Duration.ofSeconds(1)))
                        .as("nothing published while the registry is down").isEmpty();
                proxy.up();
                long expected = ids.stream().filter(id -> !io.streamdistill.student.train.HoldoutSlice.contains(id, 10)).count();
                AvroDeserializer<io.streamdistill.records.StudentCheckpoint> d =
                        new AvroDeserializer<>(SharedStack.registryClient(), io.streamdistill.records.StudentCheckpoint.class);
                List<io.streamdistill.records.StudentCheckpoint> published = List.of();
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (System.nanoTime() < deadline
                        && (published.isEmpty() || published.get(published.size() - 1).getRecordsSeen() < expected)) {
                    published = KafkaIO.readCommitted(SharedStack.get().bootstrapServers(), checkpoints, Duration.ofSeconds(1))
                            .stream().map(r -> d.deserialize(checkpoints, r.value())).toList();
                }
                assertThat(published).as("a student was published after the outage").isNotEmpty();
                assertThat(published.get(published.size() - 1).getRecordsSeen()).as("every record trained on, once")
                        .isEqualTo(expected);
                assertThat(published.stream().map(io.streamdistill.records.StudentCheckpoint::getVersion).toList())
                        .isSorted().doesNotHaveDuplicates();
                assertThat(KafkaIO.readCommitted(SharedStack.get().bootstrapServers(), trainerDead, Duration.ofSeconds(1)))
                        .as("an outage is not the records' fault").isEmpty();
            } finally {
                job.cancel().get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
    }

    private static TextEvent event(String id) {
        return TextEvent.newBuilder().setId(id).setText("an avro sentence " + id).setLabel(null).setSource(null)
                .setEventTime(Instant.now()).setAttributes(Map.of()).build();
    }

    /** TextEvent plus an optional field: a BACKWARD-compatible new version with its own schema id. */
    private static Schema evolvedTextEvent() {
        String json = TextEvent.getClassSchema().toString();
        String field = "{\"name\":\"campaign\",\"type\":[\"null\",\"string\"],\"default\":null}";
        int end = json.lastIndexOf(']');
        return new Schema.Parser().parse(json.substring(0, end) + "," + field + json.substring(end));
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, String topic, String key, byte[] value, List<String> ids)
            throws Exception {
        producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value)).get();
        ids.add(key);
    }

    private static void awaitReady(RunningTeacher teacher, int status, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int last = -1;
        while (System.nanoTime() < deadline) {
            last = teacher.get("/ready").statusCode();
            if (last == status) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("/ready did not answer " + status + " within " + timeout + " (last: " + last + ")");
    }

    private static void assertExactlyOnce(TestTopics t, List<String> ids) {
        AvroDeserializer<SoftTarget> d = new AvroDeserializer<>(SharedStack.registryClient(), SoftTarget.class);
        List<org.apache.kafka.clients.consumer.ConsumerRecord<String, byte[]>> records = KafkaIO.readAll(t.out(),
                KafkaIO.consumerConfig(ByteArrayDeserializer.class, "read_committed"), ids.size());
        Map<String, Long> counts = records.stream().map(r -> d.deserialize(t.out(), r.value()).getId())
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(counts.values()).allMatch(c -> c == 1);
    }

}
