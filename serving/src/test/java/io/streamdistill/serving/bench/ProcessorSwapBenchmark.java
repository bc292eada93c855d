package io.streamdistill.serving.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.serving.CheckpointFollower;
import io.streamdistill.serving.FollowedStudent;
import io.streamdistill.serving.StudentVersions;
import io.streamdistill.serving.streams.StudentPredictions;
import io.streamdistill.student.tokenize.StudentTokenizers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Swap latency of the Kafka Streams processor ({@code StudentPredictions}, exactly_once_v2 as classify-stream runs it):
 * while a text arrives every 10 ms, versions are published one by one, each timed from just before its checkpoint
 * record is sent to the first prediction it made that a read_committed consumer sees. Prints p50/p95 and writes
 * {@code serving/target/benchmarks/processor-swap.json}.
 *
 * <pre>mvn -DskipTests install && mvn -pl serving exec:java@processor-swap-benchmark [-Dbench.swaps=10]</pre>
 */
public final class ProcessorSwapBenchmark {

    public static void main(String[] args) throws Exception {
        int swaps = Integer.getInteger("bench.swaps", 10);
        Path out = Files.isDirectory(Path.of("serving")) ? Path.of("serving/target/benchmarks") : Path.of("target/benchmarks");
        Files.createDirectories(out);
        String bootstrap = SharedLocalStack.get().bootstrapServers();
        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build());
        String checkpoints = SharedLocalStack.newTopic("swap-checkpoints", 1);
        StudentPredictions.Topics topics = new StudentPredictions.Topics(SharedLocalStack.newTopic("swap-texts", 1),
                SharedLocalStack.newTopic("swap-predictions", 1), SharedLocalStack.newTopic("swap-dead", 1));
        StudentVersions versions = new StudentVersions(out.resolve("students"), StudentTokenizers.load("all-MiniLM-L6-v2", 128));
        StudentVersions.publish(registry, checkpoints, versions.bag("swap", 1, 1));
        Map<String, String> clients = Map.of("bootstrap.servers", bootstrap, "schema.registry.url", SharedLocalStack.get().registryUrl());
        Map<Long, Long> firstSeen = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Double> latencies = new ArrayList<>();
        try (FollowedStudent student = new FollowedStudent(new CheckpointFollower.Settings(clients, checkpoints, "swap", null),
                "all-MiniLM-L6-v2")) {
            student.awaitFirstVersion(Duration.ofSeconds(60), "swap");
            Properties p = new Properties();
            p.put(StreamsConfig.APPLICATION_ID_CONFIG, "swap-bench-" + checkpoints);
            p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
            p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
            p.put(StreamsConfig.STATE_DIR_CONFIG, out.resolve("kstreams").toAbsolutePath().toString());
            KafkaStreams streams = new KafkaStreams(StudentPredictions.topology(topics, StudentPredictions.fromHolder(student.holder(),
                    Duration.ofSeconds(30)), dl -> new AvroSerializer<DeadLetter>(registry).serialize(topics.deadLetters(), dl), 10_000,
                    new StudentPredictions.Counts()), p);
            streams.start();
            Thread producer = new Thread(() -> {
                try (KafkaProducer<String, String> pr = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap, "linger.ms", "0"),
                        new StringSerializer(), new StringSerializer())) {
                    for (long i = 0; !stop.get(); i++) {
                        pr.send(new ProducerRecord<>(topics.input(), "t-" + i, "a small furry animal " + i));
                        Thread.sleep(10);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-producer");
            Thread reader = new Thread(() -> {
                ObjectMapper json = new ObjectMapper();
                try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap,
                        ConsumerConfig.GROUP_ID_CONFIG, "swap-reader-" + checkpoints, ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                    c.subscribe(List.of(topics.output()));
                    while (!stop.get()) {
                        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                            JsonNode a = json.readTree(new String(r.value(), StandardCharsets.UTF_8));
                            firstSeen.putIfAbsent(a.get("version").asLong(), System.nanoTime());
                        }
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, "bench-reader");
            producer.start();
            reader.start();
            try {
                await(firstSeen, 1, System.nanoTime());
                for (long v = 2; v < 2 + swaps; v++) {
                    StudentCheckpoint cp = versions.bag("swap", v, v);
                    long published = System.nanoTime();
                    StudentVersions.publish(registry, checkpoints, cp);
                    await(firstSeen, v, published);
                    latencies.add((firstSeen.get(v) - published) / 1e9);
                    System.out.printf("version %d: first committed prediction %.3f s after its record%n", v, latencies.get(latencies.size() - 1));
                    Thread.sleep(1000);
                }
            } finally {
                stop.set(true);
                producer.join(10_000);
                reader.join(10_000);
                streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                        .withTimeout(Duration.ofSeconds(30)));
            }
        }
        List<Double> sorted = latencies.stream().sorted().toList();
        double p50 = sorted.get(sorted.size() / 2);
        double p95 = sorted.get((int) Math.ceil(0.95 * sorted.size()) - 1);
        System.out.printf("%nKafka Streams processor swap latency (%d versions, exactly_once_v2, read_committed):%n"
                + "| p50 | p95 | max | target p95 |%n|---|---|---|---|%n| %.2f s | %.2f s | %.2f s | <= 10 s |%n",
                sorted.size(), p50, p95, sorted.get(sorted.size() - 1));
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("swap_latency_seconds", latencies);
        result.put("swap_latency_p50_seconds", p50);
        result.put("swap_latency_p95_seconds", p95);
        Files.writeString(out.resolve("processor-swap.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(result));
        System.exit(0);
    }

    private static void await(Map<Long, Long> firstSeen, long version, long since) throws InterruptedException {
        long deadline = since + Duration.ofSeconds(60).toNanos();
        while (!firstSeen.containsKey(version)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("version " + version + " made no committed prediction within 60 s");
            }
            Thread.sleep(5);
        }
    }

    private ProcessorSwapBenchmark() {
    }
}
