package io.streamdistill.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The monitor as it runs: real Kafka Streams on the embedded broker, the real registry, its HTTP endpoints. */
class MonitorAppTest {
    private final HttpClient http = HttpClient.newHttpClient();

    /** Start, produce soft targets, dead letters and a checkpoint; the JSON, Prometheus and dashboard endpoints show them. */
    @Test
    void endpointsServeLiveWindowsDeadLettersAndShadowScores(@TempDir Path dir) throws Exception {
        String soft = SharedLocalStack.newTopic("mon-soft", 2);
        String dead = SharedLocalStack.newTopic("mon-dead", 1);
        String checkpoints = SharedLocalStack.newTopic("mon-checkpoints", 1);
        String metrics = SharedLocalStack.newTopic("mon-metrics", 1);
        MonitorConfig config = MonitorConfig.of(Map.ofEntries(Map.entry("bootstrap.servers", SharedLocalStack.get().bootstrapServers()),
                Map.entry("schema.registry.url", SharedLocalStack.get().registryUrl()), Map.entry("application.id", "mon-" + soft),
                Map.entry("soft.targets.topic", soft), Map.entry("dead.letters.topic", dead),
                Map.entry("checkpoints.topic", checkpoints), Map.entry("metrics.topic", metrics),
                Map.entry("window.seconds", "2"), Map.entry("window.grace.seconds", "0"), Map.entry("holdout.percent", "20"),
                Map.entry("state.dir", dir.resolve("state").toString()), Map.entry("http.port", "0"),
                Map.entry("lag.groups", "no-such-group")));
        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build());
        try (Monitor monitor = Monitor.start(config);
             KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers()),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            awaitStatus(monitor, "/ready", 200, Duration.ofSeconds(60));

            Path model = dir.resolve("student/1/model.onnx");
            Files.createDirectories(model.getParent());
            TextTokenizer tokenizer = StudentTokenizers.load("all-MiniLM-L6-v2", 128);
            byte[] bytes = OnnxExporter.export(MonitorTopologyTest.randomStudent(tokenizer.vocabSize()).student(),
                    new OnnxExporter.Metadata(tokenizer.id(), 1));
            Files.write(model, bytes);
            StudentCheckpoint cp = MonitorTopologyTest.checkpoint(1, model, Hashing.sha256(bytes));
            p.send(new ProducerRecord<>(checkpoints, utf8("student"), new AvroSerializer<StudentCheckpoint>(registry).serialize(checkpoints, cp))).get();
            Thread.sleep(3000); // the version is announced and its artifact loaded

            AvroSerializer<SoftTarget> st = new AvroSerializer<>(registry);
            AvroSerializer<DeadLetter> dl = new AvroSerializer<>(registry);
            for (int round = 0; round < 4; round++) { // spread over a few 2-second windows
                for (int i = 0; i < 100; i++) {
                    SoftTarget s = MonitorTopologyTest.softTarget("r" + round + "-" + i, "live text " + i, i % 4, 1500);
                    p.send(new ProducerRecord<>(soft, null, System.currentTimeMillis(), utf8(s.getId()), st.serialize(soft, s)));
                }
                p.send(new ProducerRecord<>(dead, utf8("d" + round), dl.serialize(dead, MonitorTopologyTest.deadLetter("MALFORMED_JSON"))));
                p.flush();
                Thread.sleep(2100);
            }

            JsonNode summary = awaitSummary(monitor, Duration.ofSeconds(60));
            assertThat(summary.get("records_per_second").asDouble()).isPositive();
            assertThat(summary.get("teacher_latency_p50_ms").asDouble()).isBetween(1.2, 1.8);
            assertThat(summary.get("dead_letters").asLong()).isEqualTo(4);
            JsonNode student = summary.get("students").get("student");
            assertThat(student.get("version").asLong()).isEqualTo(1);
            assertThat(student.get("shadow_records").asLong()).isPositive();
            assertThat(summary.get("class_shares").get("animal").asDouble()).isBetween(0.1, 0.4);

            String prometheus = get(monitor, "/metrics").body();
            assertThat(prometheus).contains("streamdistill_monitor_dead_letters_total{reason=\"MALFORMED_JSON\"} 4")
                    .contains("streamdistill_monitor_shadow_agreement{student=\"student\",version=\"1\"}")
                    .contains("streamdistill_monitor_latest_version{student=\"student\"} 1")
                    .contains("streamdistill_monitor_soft_targets_per_second");
            assertThat(get(monitor, "/").body()).contains("StreamDistill monitor").contains("chart-agreement");
            assertThat(get(monitor, "/api/traffic?minutes=5").statusCode()).isEqualTo(200);
        }
    }

    private JsonNode awaitSummary(Monitor monitor, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode s = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = get(monitor, "/api/summary");
            if (r.statusCode() == 200) {
                s = new ObjectMapper().readTree(r.body());
                JsonNode student = s.path("students").path("student");
                if (!s.get("records_per_second").isNull() && s.get("dead_letters").asLong() >= 4
                        && student.path("shadow_records").asLong() > 0) {
                    return s;
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the summary never showed windows, dead letters and shadow scores: " + s);
    }

    private void awaitStatus(Monitor monitor, String path, int status, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (get(monitor, path).statusCode() == status) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(path + " never answered " + status);
    }

    private HttpResponse<String> get(Monitor monitor, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(monitor.url().replaceAll("/$", "") + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
