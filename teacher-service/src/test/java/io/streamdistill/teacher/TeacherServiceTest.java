package io.streamdistill.teacher;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.Task;
import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.teacher.http.HealthServer;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.service.Metrics;
import io.streamdistill.teacher.service.TeacherConfig;
import io.streamdistill.teacher.service.TeacherService;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The teacher loop on the embedded broker and the real registry: start, produce, verify. */
class TeacherServiceTest {
    private static Teacher teacher;
    private static SchemaRegistryClient registry;

    @BeforeAll
    static void start() {
        SharedLocalStack.get();
        teacher = Teacher.load(BuiltInTeachers.ALL_MINILM_L6_V2.descriptor(), 1, Teacher.Device.CPU, 0);
        registry = new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build());
    }

    @AfterAll
    static void stop() {
        teacher.close();
    }

    /** A running service on fresh topics; closed by the caller. */
    private record Running(TeacherService service, Thread thread, String in, String out, String dead) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            service.close();
            thread.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    private static Running startService(String name, Map<String, String> extra) {
        return startService(name, SharedLocalStack.newTopic(name + "-text", 2), SharedLocalStack.newTopic(name + "-soft", 2),
                SharedLocalStack.newTopic(name + "-dead", 1), extra);
    }

    private static Running startService(String name, String in, String out, String dead, Map<String, String> extra) {
        Map<String, String> settings = new HashMap<>(Map.of(
                "bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                "schema.registry.url", SharedLocalStack.get().registryUrl(),
                "input.topic", in, "output.topic", out, "dead.letter.topic", dead,
                "group.id", name + "-group", "transactional.id", name + "-tx", "http.port", "-1"));
        settings.putAll(extra);
        TeacherService service = new TeacherService(TeacherConfig.of(settings), teacher, new Metrics());
        Thread thread = new Thread(service, name + "-loop");
        thread.start();
        return new Running(service, thread, in, out, dead);
    }

    private static void produce(String topic, List<ProducerRecord<byte[], byte[]>> records) throws Exception {
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers",
                SharedLocalStack.get().bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (ProducerRecord<byte[], byte[]> r : records) {
                p.send(r).get();
            }
        }
    }

    private static List<SoftTarget> softTargets(String topic, int expected) {
        return io.streamdistill.teacher.TopicReader.softTargets(registry, topic, expected, Duration.ofSeconds(90), Duration.ofSeconds(1));
    }

    private static List<DeadLetter> deadLetters(String topic, int expected) {
        return io.streamdistill.teacher.TopicReader.deadLetters(registry, topic, expected, Duration.ofSeconds(90), Duration.ofSeconds(1));
    }

    private static TextEvent event(String id, String text) {
        return TextEvent.newBuilder().setId(id).setText(text).setLabel(null).setSource("test")
                .setEventTime(Instant.parse("2026-11-28T00:00:00Z")).setAttributes(Map.of()).build();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** N texts in (Avro, JSON and plain text mixed) give N soft targets, each id exactly once. */
    @Test
    void everyInputIdComesOutExactlyOnce() throws Exception {
        try (Running r = startService("eos", Map.of("batch.max.size", "16"))) {
            AvroSerializer<TextEvent> avro = new AvroSerializer<>(registry);
            List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 120; i++) {
                String id = "avro-" + i;
                ids.add(id);
                records.add(new ProducerRecord<>(r.in(), utf8(id), avro.serialize(r.in(), event(id, "sentence number " + i
                        + " " + "about things ".repeat(i % 7)))));
            }
            for (int i = 0; i < 40; i++) {
                String id = "json-" + i;
                ids.add(id);
                records.add(new ProducerRecord<>(r.in(), null, utf8("{\"id\":\"" + id + "\",\"text\":\"json text " + i
                        + "\",\"label\":\"x\",\"eventTime\":1700000000000}")));
            }
            for (int i = 0; i < 40; i++) {
                String id = "text-" + i;
                ids.add(id);
                records.add(new ProducerRecord<>(r.in(), utf8(id), utf8("plain text line " + i)));
            }
            produce(r.in(), records);

            List<SoftTarget> out = softTargets(r.out(), ids.size());
            Map<String, Long> counts = out.stream().collect(Collectors.groupingBy(SoftTarget::getId, Collectors.counting()));
            assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(counts.values()).allMatch(c -> c == 1);
            assertThat(deadLetters(r.dead(), 0)).isEmpty();

            SoftTarget sample = out.stream().filter(s -> s.getId().equals("json-3")).findFirst().orElseThrow();
            assertThat(sample.getTask()).isEqualTo(Task.EMBEDDING);
            assertThat(sample.getEmbedding()).hasSize(384);
            assertThat(sample.getLabel()).isEqualTo("x");
            assertThat(sample.getEventTime()).isEqualTo(Instant.ofEpochMilli(1700000000000L));
            assertThat(sample.getTeacher()).isEqualTo(teacher.ref());
            assertThat(sample.getInputTopic()).isEqualTo(r.in());
            assertThat(sample.getTeacherLatencyMicros()).isPositive();
            float[] expected = teacher.embedTexts(List.of("json text 3"))[0];
            for (int j = 0; j < 384; j++) {
                assertThat(sample.getEmbedding().get(j)).isCloseTo(expected[j], org.assertj.core.data.Offset.offset(1e-4f));
            }
            assertThat(r.service().metrics().softTargets()).isEqualTo(ids.size());
        }
    }

    /** Stopped mid-stream and started again (same group and transactional id): nothing lost, nothing twice. */
    @Test
    void aGracefulStopAndRestartLosesAndDuplicatesNothing() throws Exception {
        Running first = startService("restart", Map.of("poll.max.records", "20", "batch.max.size", "8"));
        List<String> ids = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            ids.add("r-" + i);
            records.add(new ProducerRecord<>(first.in(), utf8("r-" + i), utf8("restart sentence " + i)));
        }
        produce(first.in(), records);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (first.service().metrics().softTargets() < 40 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        first.close();
        long before = first.service().metrics().softTargets();
        assertThat(before).as("stopped mid-stream").isBetween(1L, 299L);

        try (Running second = startService("restart", first.in(), first.out(), first.dead(),
                Map.of("poll.max.records", "20", "batch.max.size", "8"))) {
            List<SoftTarget> out = softTargets(first.out(), ids.size());
            Map<String, Long> counts = out.stream().collect(Collectors.groupingBy(SoftTarget::getId, Collectors.counting()));
            assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(counts.values()).allMatch(c -> c == 1);
            assertThat(second.service().metrics().softTargets()).isEqualTo(300 - before);
        }
    }

    /** Each kind of bad input becomes a dead letter with its reason, and the good records around it flow on. */
    @Test
    void badInputGoesToDeadLettersWithItsReasonWhileGoodRecordsFlow() throws Exception {
        try (Running r = startService("bad", Map.of("text.max.chars", "1000", "text.oversize", "DEAD_LETTER"))) {
            AvroSerializer<TextEvent> avro = new AvroSerializer<>(registry);
            byte[] goodAvro = avro.serialize(r.in(), event("probe", "probe"));
            byte[] malformedAvro = goodAvro.clone();
            java.util.Arrays.fill(malformedAvro, 5, malformedAvro.length, (byte) 0xff);
            byte[] unknownId = goodAvro.clone();
            unknownId[1] = 0x7f;
            byte[] otherType = new AvroSerializer<DeadLetter>(registry).serialize(r.dead() + "-probe", DeadLetter.newBuilder()
                    .setId("x").setTopic("t").setPartition(0).setOffset(0).setStage("s").setReason("r").setMessage("m")
                    .setService("s").setFailedAt(Instant.EPOCH).build());
            Map<String, byte[]> bad = new LinkedHashMap<>();
            bad.put("MALFORMED_AVRO", malformedAvro);
            bad.put("UNKNOWN_SCHEMA_ID", unknownId);
            bad.put("TRUNCATED", new byte[] {0, 0, 0});
            bad.put("WRONG_RECORD_TYPE", otherType);
            bad.put("INVALID_UTF8", new byte[] {'o', 'k', (byte) 0xC3, 0x28});
            bad.put("EMPTY_TEXT", utf8("{\"id\":\"e\",\"text\":\"   \"}"));
            bad.put("MALFORMED_JSON", utf8("{\"id\": \"broken\", \"text\": "));
            bad.put("MISSING_FIELD", utf8("{\"id\":\"no-text\",\"body\":\"hello\"}"));
            bad.put("TEXT_TOO_LONG", utf8("long ".repeat(400)));
            bad.put("NULL_VALUE", null);
            List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
            List<String> goodIds = new ArrayList<>();
            int i = 0;
            for (Map.Entry<String, byte[]> e : bad.entrySet()) {
                String good = "good-" + i++;
                goodIds.add(good);
                records.add(new ProducerRecord<>(r.in(), utf8(good), avro.serialize(r.in(), event(good, "a fine sentence " + i))));
                records.add(new ProducerRecord<>(r.in(), utf8("bad-" + e.getKey()), e.getValue()));
            }
            // A file line its reader marked as bad (valid UTF-8, but a CSV row with the wrong number of fields).
            ProducerRecord<byte[], byte[]> marked = new ProducerRecord<>(r.in(), utf8("bad-FIELD_COUNT"), utf8("soup,food,extra"));
            marked.headers().add(io.streamdistill.schemas.BadLineHeaders.PROBLEM, utf8("FIELD_COUNT"));
            marked.headers().add(io.streamdistill.schemas.BadLineHeaders.WHERE, utf8("d.csv line 4 (byte offset 45): has another number"
                    + " of CSV fields than the header"));
            records.add(marked);
            records.add(new ProducerRecord<>(r.in(), utf8("unicode"), utf8("RTL שלום, combining e\u0301, emoji 🚀, NUL \u0000 and BEL \u0007")));
            goodIds.add("unicode");
            produce(r.in(), records);

            List<SoftTarget> out = softTargets(r.out(), goodIds.size());
            assertThat(out).extracting(SoftTarget::getId).containsExactlyInAnyOrderElementsOf(goodIds);
            List<DeadLetter> dead = deadLetters(r.dead(), bad.size() + 1);
            Map<String, DeadLetter> byKey = new HashMap<>();
            for (DeadLetter d : dead) {
                assertThat(d.getTopic()).isEqualTo(r.in());
                assertThat(d.getService()).isEqualTo("teacher-service");
                assertThat(d.getMessage()).isNotBlank();
                byKey.put(d.getReason(), d);
            }
            DeadLetter fileLine = byKey.remove("FIELD_COUNT");
            assertThat(fileLine.getStage()).isEqualTo("file");
            assertThat(fileLine.getMessage()).contains("d.csv line 4 (byte offset 45)");
            assertThat(fileLine.getOriginalValue().array()).isEqualTo(utf8("soup,food,extra"));
            assertThat(byKey.keySet()).containsExactlyInAnyOrderElementsOf(bad.keySet());
            assertThat(dead).hasSize(bad.size() + 1);
            // The original bytes are kept, unchanged.
            assertThat(byKey.get("INVALID_UTF8").getOriginalValue().array()).isEqualTo(bad.get("INVALID_UTF8"));
            assertThat(byKey.get("NULL_VALUE").getOriginalValue()).isNull();
            assertThat(r.service().metrics().deadLetters()).isEqualTo(bad.size() + 1);
        }
    }

    /** kcat, an independent Kafka client, produces plain text lines; the teacher processes them. */
    @Test
    void plainTextProducedByKcatIsProcessed() throws Exception {
        Assumptions.assumeTrue(new ProcessBuilder("sh", "-c", "command -v kcat").start().waitFor() == 0,
                "kcat is not installed (Debian package kcat; .ci/run installs it)");
        try (Running r = startService("kcat", Map.of())) {
            Process kcat = new ProcessBuilder("kcat", "-P", "-b", SharedLocalStack.get().bootstrapServers(), "-t", r.in(), "-K", "\t")
                    .redirectErrorStream(true).start();
            kcat.getOutputStream().write(utf8("k1\tthe first line from kcat\nk2\tthe second line from kcat\nk3\tdrei\n"));
            kcat.getOutputStream().close();
            assertThat(kcat.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(kcat.exitValue()).as(new String(kcat.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();

            List<SoftTarget> out = softTargets(r.out(), 3);
            assertThat(out).extracting(SoftTarget::getId).containsExactlyInAnyOrder("k1", "k2", "k3");
            assertThat(out).extracting(SoftTarget::getText).contains("the first line from kcat");
        }
    }

    @Test
    void healthReadinessAndMetricsOverHttp() throws Exception {
        try (Running r = startService("http", Map.of())) {
            TeacherService s = r.service();
            try (HealthServer http = new HealthServer(0, s::isHealthy, s::notReadyReason, () -> s.metrics().prometheus(s.isReady()))) {
                HttpClient client = HttpClient.newHttpClient();
                String base = "http://127.0.0.1:" + http.port();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!s.isReady() && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                produce(r.in(), List.of(new ProducerRecord<>(r.in(), utf8("m1"), utf8("metrics please")),
                        new ProducerRecord<>(r.in(), utf8("m2"), new byte[] {(byte) 0xff})));
                softTargets(r.out(), 1);
                assertThat(get(client, base + "/health").statusCode()).isEqualTo(200);
                assertThat(get(client, base + "/ready").statusCode()).isEqualTo(200);
                String metrics = get(client, base + "/metrics").body();
                assertThat(metrics).contains("streamdistill_teacher_soft_targets_total 1")
                        .contains("streamdistill_teacher_dead_letters_total{reason=\"INVALID_UTF8\"} 1")
                        .contains("streamdistill_teacher_inference_seconds_count")
                        .contains("streamdistill_teacher_consumer_lag");
            }
        }
    }

    private static HttpResponse<String> get(HttpClient client, String url) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
