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
                    .contains("streamdistill_monitor_trainer_parallelism{student=\"student\"} 2.0")
                    .contains("streamdistill_monitor_sync_bytes{student=\"student\"} 123456.0")
                    .contains("streamdistill_monitor_soft_targets_per_second");
            assertThat(get(monitor, "/").body()).contains("StreamDistill monitor").contains("chart-agreement");
            assertThat(get(monitor, "/api/traffic?minutes=5").statusCode()).isEqualTo(200);

            // 10,000 random and mutated requests to every endpoint: no 5xx, the heap where it was.
            int port = URI.create(monitor.url()).getPort();
            long heapBefore = usedHeapAfterGc();
            java.util.Map<Integer, Integer> statuses = new java.util.TreeMap<>();
            java.util.Random r = new java.util.Random(11);
            java.util.List<String> paths = java.util.List.of("/", "/api/summary", "/api/traffic", "/api/dead-letters", "/api/shadow", "/api/lag", "/metrics",
                    "/health", "/ready", "/api", "/api/summary/x", "/%2e%2e/etc/passwd", "/api/traffic?minutes=", "/\u00e9t\u00e9");
            java.util.List<String> queries = java.util.List.of("", "?minutes=5", "?minutes=-1", "?minutes=abc", "?minutes=99999999999999999999", "?minutes=1e9",
                    "?minutes=%00", "?a=b&c", "?minutes=5&minutes=6", "?" + "x".repeat(4000));
            for (int i = 0; i < 10_000; i++) {
                String method = java.util.List.of("GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD").get(r.nextInt(7));
                String target = paths.get(r.nextInt(paths.size())) + queries.get(r.nextInt(queries.size()));
                byte[] body = new byte[method.equals("GET") || method.equals("HEAD") ? 0 : r.nextInt(2048)];
                r.nextBytes(body);
                int status = rawStatus(port, method, target.replace(" ", "%20"), body);
                statuses.merge(status, 1, Integer::sum);
            }
            long heapAfter = usedHeapAfterGc();
            System.out.printf("monitor fuzz: statuses %s; used heap after GC %d MiB before, %d MiB after%n", statuses, heapBefore >> 20,
                    heapAfter >> 20);
            assertThat(statuses.keySet()).as("no 5xx").allMatch(code -> code < 500);
            assertThat(statuses).as("non-GET methods are refused").containsKey(405);
            assertThat(heapAfter - heapBefore).as("heap growth after 10,000 requests").isLessThan(64L << 20);
            assertThat(get(monitor, "/api/summary").statusCode()).isEqualTo(200);
        }
    }

    /** One request on its own connection, written in one piece; the status code (0 when the server closed without one). */
    private static int rawStatus(int port, String method, String target, byte[] body) throws java.io.IOException {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(30_000);
            byte[] head = (method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + body.length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.UTF_8);
            byte[] request = java.util.Arrays.copyOf(head, head.length + body.length);
            System.arraycopy(body, 0, request, head.length, body.length);
            socket.getOutputStream().write(request);
            socket.getOutputStream().flush();
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
            return line == null || line.length() < 12 ? 0 : Integer.parseInt(line.substring(9, 12));
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
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
