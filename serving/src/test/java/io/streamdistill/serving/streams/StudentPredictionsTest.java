package io.streamdistill.serving.streams;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.serving.CheckpointFollower;
import io.streamdistill.serving.FollowedStudent;
import io.streamdistill.serving.StudentVersions;
import io.streamdistill.student.tokenize.StudentTokenizers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The student as a Kafka Streams processor on the embedded broker and the real registry: start, produce,
 * verify. Versions swap mid-stream; a stream thread that fails mid-transaction and an application restarted
 * lose nothing and write nothing twice (exactly_once_v2); bad values become dead letters with their reasons.
 */
class StudentPredictionsTest {
    private static final CloseOptions LEAVE = CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP);
    static SchemaRegistryClient registry;
    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        registry = new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build());
    }

    @Test
    void versionsSwapMidStreamAndEveryTextIsAnsweredOnceThroughAFailureAndARestart() throws Exception {
        String checkpoints = SharedLocalStack.newTopic("streams-checkpoints", 1);
        StudentPredictions.Topics topics = new StudentPredictions.Topics(SharedLocalStack.newTopic("streams-texts", 2),
                SharedLocalStack.newTopic("streams-predictions", 2), SharedLocalStack.newTopic("streams-dead", 1));
        StudentVersions versions = new StudentVersions(dir, StudentTokenizers.load("all-MiniLM-L6-v2", 128));
        StudentCheckpoint v1 = versions.bag("streams", 1, 31);
        StudentVersions.publish(registry, checkpoints, v1);
        Map<String, String> clients = Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                "schema.registry.url", SharedLocalStack.get().registryUrl());
        String app = "classify-" + checkpoints;
        try (FollowedStudent student = new FollowedStudent(new CheckpointFollower.Settings(clients, checkpoints, "streams", null),
                "all-MiniLM-L6-v2")) {
            assertThat(student.awaitFirstVersion(Duration.ofSeconds(60), "streams").version()).isEqualTo(1);
            StudentPredictions.Predictor real = StudentPredictions.fromHolder(student.holder(), Duration.ofSeconds(30));
            AtomicInteger calls = new AtomicInteger();
            // The 60th text fails once, mid-transaction: the thread is replaced and the open transaction aborted.
            StudentPredictions.Predictor failingOnce = text -> {
                if (calls.incrementAndGet() == 60) {
                    throw new IllegalStateException("injected failure in the middle of a transaction");
                }
                return real.predict(text);
            };

            // Start, produce: 100 texts and two values that are no texts.
            StudentPredictions.Counts counts = new StudentPredictions.Counts();
            KafkaStreams first = start(app, topics, failingOnce, counts);
            produce(topics.input(), 0, 100);
            produceRaw(topics.input(), "bad-utf8", new byte[] {'c', 'a', 'f', (byte) 0xE9});
            produceRaw(topics.input(), "blank", "   ".getBytes(StandardCharsets.UTF_8));
            awaitCount(() -> counts.predictions(), 100);
            first.close(LEAVE.withTimeout(Duration.ofSeconds(30)));
            assertThat(calls.get()).as("the failure happened").isGreaterThan(60);

            // Restart the application, then publish version 2 while it runs.
            KafkaStreams second = start(app, topics, real, counts);
            produce(topics.input(), 100, 150);
            StudentCheckpoint v2 = versions.bag("streams", 2, 32);
            StudentVersions.publish(registry, checkpoints, v2);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (student.holder().peek().version() != 2 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            produce(topics.input(), 150, 200);
            // Done when every text's prediction is committed (the counters also count work a failed transaction lost).
            long done = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (committedKeys(topics.output()) < 200 && System.nanoTime() < done) {
                Thread.sleep(200);
            }
            second.close(LEAVE.withTimeout(Duration.ofSeconds(30)));

            // Verify: each text answered once (by id, read_committed), versions in order, dead letters with reasons.
            Map<String, List<JsonNode>> answers = new TreeMap<>();
            Map<Integer, List<Long>> versionsByPartition = new HashMap<>();
            ObjectMapper json = new ObjectMapper();
            for (ConsumerRecord<byte[], byte[]> r : readAll(topics.output(), 200)) {
                JsonNode a = json.readTree(r.value());
                answers.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>()).add(a);
                versionsByPartition.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(a.get("version").asLong());
            }
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                expected.add("t-" + i);
            }
            assertThat(answers.keySet()).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(answers.values()).allSatisfy(list -> assertThat(list).as("answered once").hasSize(1));
            JsonNode sample = answers.get("t-0").get(0);
            assertThat(sample.get("student").asText()).isEqualTo("streams");
            assertThat(sample.get("label").asText()).isIn(StudentVersions.CLASSES);
            assertThat(sample.get("confidence").asDouble()).isBetween(0.0, 1.0);
            assertThat(sample.get("probabilities").size()).isEqualTo(4);
            assertThat(answers.get("t-0").get(0).get("version").asLong()).isEqualTo(1);
            assertThat(answers.get("t-199").get(0).get("version").asLong()).as("answered by the version published mid-stream")
                    .isEqualTo(2);
            versionsByPartition.values().forEach(vs -> assertThat(vs).as("versions only move forward").isSorted());

            AvroDeserializer<DeadLetter> d = new AvroDeserializer<>(registry, DeadLetter.class);
            Map<String, String> reasons = new TreeMap<>();
            for (ConsumerRecord<byte[], byte[]> r : readAll(topics.deadLetters(), 2)) {
                DeadLetter dl = d.deserialize(r.topic(), r.value());
                reasons.put(new String(r.key(), StandardCharsets.UTF_8), dl.getReason());
                assertThat(dl.getTopic()).isEqualTo(topics.input());
                assertThat(dl.getService()).isEqualTo(StudentPredictions.SERVICE);
            }
            assertThat(reasons).containsExactlyInAnyOrderEntriesOf(Map.of("bad-utf8", "INVALID_UTF8", "blank", "EMPTY_TEXT"));
        }
    }

    private static KafkaStreams start(String app, StudentPredictions.Topics topics, StudentPredictions.Predictor predictor,
                                      StudentPredictions.Counts counts) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, app);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, SharedLocalStack.get().bootstrapServers());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        // Long transactions, so the injected failure surely aborts one that holds written predictions.
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 2000);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        // A replaced thread's member stays in the group until its session times out (Streams does not leave on close).
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
        p.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("java.io.tmpdir") + "/kstreams-" + app);
        KafkaStreams streams = new KafkaStreams(StudentPredictions.topology(topics, predictor,
                dl -> new AvroSerializer<DeadLetter>(registry).serialize(topics.deadLetters(), dl), 10_000, counts), p);
        streams.setUncaughtExceptionHandler(e -> StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD);
        streams.start();
        return streams;
    }

    private static void produce(String topic, int from, int to) throws Exception {
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            for (int i = from; i < to; i++) {
                p.send(new ProducerRecord<>(topic, ("t-" + i).getBytes(StandardCharsets.UTF_8),
                        ("text number " + i + ": a small furry animal that eats plants").getBytes(StandardCharsets.UTF_8))).get();
            }
        }
    }

    private static void produceRaw(String topic, String key, byte[] value) throws Exception {
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            p.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value)).get();
        }
    }

    private static KafkaProducer<byte[], byte[]> producer() {
        return new KafkaProducer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers()), new ByteArraySerializer(),
                new ByteArraySerializer());
    }

    private static void awaitCount(java.util.function.LongSupplier count, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (count.getAsLong() < atLeast) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited 90 s for " + atLeast + ", got " + count.getAsLong());
            }
            Thread.sleep(50);
        }
    }

    /** How many distinct keys the topic holds committed now. */
    private static long committedKeys(String topic) {
        return readAll(topic, 0).stream().map(r -> new String(r.key(), StandardCharsets.UTF_8)).distinct().count();
    }

    /** Everything committed on the topic, read until {@code atLeast} records and then to its end. */
    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int atLeast) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", SharedLocalStack.get().bootstrapServers());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline && (out.size() < atLeast || tps.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp)))) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
