package io.streamdistill.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.student.onnx.StudentRunner;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Serving on the embedded broker and the real registry, with real ONNX students. */
class ServingTest {
    static final List<String> CLASSES = List.of("animal", "food", "plant", "person");
    static final String PROBE = "a small furry animal that eats plants";
    static TextTokenizer tokenizer;
    static SchemaRegistryClient registry;
    private final HttpClient http = HttpClient.newHttpClient();
    @TempDir
    Path dir;

    @BeforeAll
    static synchronized void setUp() {
        if (registry != null) {
            return;
        }
        SharedLocalStack.get();
        tokenizer = StudentTokenizers.load("all-MiniLM-L6-v2", 128);
        registry = new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build());
    }

    StudentCheckpoint publishable(String student, long version, long seed) throws Exception {
        return new StudentVersions(dir, tokenizer).bag(student, version, seed);
    }

    StudentCheckpoint checkpoint(String student, long version, byte[] bytes, String architecture) throws Exception {
        return new StudentVersions(dir, tokenizer).checkpoint(student, version, bytes, architecture);
    }

    StudentCheckpoint publishableTransformer(String student, long version, long seed) throws Exception {
        return new StudentVersions(dir, tokenizer).transformer(student, version, seed);
    }

    static float[] expected(StudentCheckpoint cp) {
        try (StudentRunner r = StudentRunner.load(Path.of(URI.create(cp.getArtifact().getUri())), cp.getArtifact().getSha256(), tokenizer, 1)) {
            return r.score(List.of(PROBE))[0];
        }
    }

    static TextTokenizer tokenizer() {
        setUp();
        return tokenizer;
    }

    static void publishStatic(String topic, StudentCheckpoint cp) throws Exception {
        setUp();
        publish(topic, cp);
    }

    static void publish(String topic, StudentCheckpoint cp) throws Exception {
        StudentVersions.publish(registry, topic, cp);
    }

    static Serving serve(String topic, String student, Long pinned) {
        Map<String, String> clients = Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                "schema.registry.url", SharedLocalStack.get().registryUrl());
        return new Serving(new CheckpointFollower.Settings(clients, topic, student, pinned), "all-MiniLM-L6-v2", 0, 4);
    }

    static void awaitVersion(Serving s, long version) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            ServedModel m = s.holder().peek();
            if (m != null && m.version() == version) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("version " + version + " was not served within 60 s; serving "
                + (s.holder().peek() == null ? "nothing" : s.holder().peek().version()));
    }

    HttpResponse<String> predict(Serving s, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/predict"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Four clients send requests without pause while versions 2 and 3 are swapped in: no request fails,
     * each answer names its version, and its numbers are exactly that version's (never a mix), for
     * both texts of the request.
     */
    @Test
    void aSwapUnderConcurrentLoadLosesNoRequestAndNeverMixesVersions() throws Exception {
        String topic = SharedLocalStack.newTopic("serve-swap", 1);
        Map<Long, StudentCheckpoint> versions = new HashMap<>();
        for (long v = 1; v <= 3; v++) {
            versions.put(v, publishable("s", v, 100 + v));
        }
        Map<Long, float[]> expected = new HashMap<>();
        versions.forEach((v, cp) -> expected.put(v, expected(cp)));
        publish(topic, versions.get(1L));
        try (Serving s = serve(topic, "s", null)) {
            awaitVersion(s, 1);
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<long[]> seen = new ConcurrentLinkedQueue<>(); // {client, version}
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int client = c;
                Thread t = new Thread(() -> {
                    ObjectMapper json = new ObjectMapper();
                    while (!stop.get()) {
                        try {
                            HttpResponse<String> r = predict(s, "{\"texts\": [\"" + PROBE + "\", \"" + PROBE + "\"]}");
                            if (r.statusCode() != 200) {
                                failures.add(r.statusCode() + " " + r.body());
                                continue;
                            }
                            JsonNode body = json.readTree(r.body());
                            long v = body.get("version").asLong();
                            seen.add(new long[] {client, v});
                            for (JsonNode p : body.get("predictions")) {
                                for (int k = 0; k < CLASSES.size(); k++) {
                                    double got = p.get("probabilities").get(CLASSES.get(k)).asDouble();
                                    if (Math.abs(got - expected.get(v)[k]) > 1e-5) {
                                        failures.add("version " + v + " answered " + got + " for " + CLASSES.get(k)
                                                + ", that version gives " + expected.get(v)[k]);
                                    }
                                }
                            }
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                }, "client-" + c);
                clients.add(t);
                t.start();
            }
            Thread.sleep(500);
            publish(topic, versions.get(2L));
            awaitVersion(s, 2);
            Thread.sleep(500);
            publish(topic, versions.get(3L));
            awaitVersion(s, 3);
            Thread.sleep(500);
            stop.set(true);
            for (Thread t : clients) {
                t.join();
            }
            assertThat(failures).isEmpty();
            assertThat(seen).hasSizeGreaterThan(50);
            assertThat(seen.stream().map(x -> x[1]).distinct()).contains(1L, 2L, 3L);
            for (int c = 0; c < 4; c++) {
                int client = c;
                List<Long> order = seen.stream().filter(x -> x[0] == client).map(x -> x[1]).toList();
                assertThat(order).as("client %d never goes back to an older version", c).isSorted();
            }
            assertThat(s.holder().swaps()).isEqualTo(2);
            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("streamdistill_serving_version 3").contains("streamdistill_serving_swaps_total 2")
                    .contains("streamdistill_serving_requests_total{outcome=\"ok\"} " + seen.size())
                    .contains("streamdistill_serving_request_seconds_count");
        }
    }

    /** A version whose file does not match its published sha256 is refused; the serving version keeps answering. */
    @Test
    void aTamperedArtifactIsRefusedAndTheOldVersionKeepsServing() throws Exception {
        String topic = SharedLocalStack.newTopic("serve-tamper", 1);
        StudentCheckpoint v1 = publishable("t", 1, 7);
        StudentCheckpoint v2 = publishable("t", 2, 8);
        StudentCheckpoint v3 = publishable("t", 3, 9);
        Path v2File = Path.of(URI.create(v2.getArtifact().getUri()));
        byte[] altered = Files.readAllBytes(v2File);
        altered[altered.length / 2] ^= 1;
        Files.write(v2File, altered);
        publish(topic, v1);
        try (Serving s = serve(topic, "t", null)) {
            awaitVersion(s, 1);
            publish(topic, v2);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (s.follower().refused() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(s.follower().refused()).isEqualTo(1);
            assertThat(s.follower().lastRefusal()).contains("version 2").contains("SHA-256");
            HttpResponse<String> r = predict(s, "{\"text\": \"" + PROBE + "\"}");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(new ObjectMapper().readTree(r.body()).get("version").asLong()).isEqualTo(1);
            publish(topic, v3);
            awaitVersion(s, 3);
            assertThat(predict(s, "{\"texts\": []}").statusCode()).isEqualTo(400);
            assertThat(predict(s, "not json").statusCode()).isEqualTo(400);
        }
    }

    /**
     * A registry outage while a version waits in the topic: serve reads the record again when the registry answers
     * and serves that version (it used to skip it for good). A record that is no checkpoint is refused, counted and
     * named, and the next version is served.
     */
    @Test
    void aRegistryOutageSkipsNoVersionAndAnUnreadableRecordIsRefusedAndCounted() throws Exception {
        String topic = SharedLocalStack.newTopic("serve-registry-down", 1);
        publish(topic, publishable("r", 1, 11));
        try (FlakyRegistry flaky = new FlakyRegistry(SharedLocalStack.get().registryUrl())) {
            flaky.down(true);
            Map<String, String> clients = Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                    "schema.registry.url", flaky.url(), "schema.registry.retry.timeout.ms", "300",
                    "schema.registry.retry.backoff.ms", "50");
            try (Serving s = new Serving(new CheckpointFollower.Settings(clients, topic, "r", null), "all-MiniLM-L6-v2", 0, 4)) {
                Thread.sleep(2500);
                assertThat(s.holder().peek()).as("nothing to serve while the registry is down").isNull();
                assertThat(s.follower().refused()).as("an outage is not the record's fault").isZero();
                flaky.down(false);
                awaitVersion(s, 1);

                try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers",
                        SharedLocalStack.get().bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
                    p.send(new ProducerRecord<>(topic, "r".getBytes(StandardCharsets.UTF_8),
                            "not a checkpoint".getBytes(StandardCharsets.UTF_8))).get();
                }
                publish(topic, publishable("r", 2, 12));
                awaitVersion(s, 2);
                assertThat(s.follower().refused()).isEqualTo(1);
                assertThat(s.follower().lastRefusal()).contains(topic + "/0@1").contains("WRONG_MAGIC_BYTE");
            }
        }
    }

    /** One student line moving from a bag version to a transformer version and back: serve swaps both ways and answers from each. */
    @Test
    void serveSwapsBetweenABagAndATransformerVersionOfOneStudent() throws Exception {
        String topic = SharedLocalStack.newTopic("serve-arch", 1);
        StudentCheckpoint bag = publishable("arch", 1, 21);
        StudentCheckpoint transformer = publishableTransformer("arch", 2, 22);
        StudentCheckpoint bagAgain = publishable("arch", 3, 23);
        publish(topic, bag);
        try (Serving s = serve(topic, "arch", null)) {
            awaitVersion(s, 1);
            publish(topic, transformer);
            awaitVersion(s, 2);
            HttpResponse<String> r = predict(s, "{\"text\": \"" + PROBE + "\"}");
            assertThat(r.statusCode()).isEqualTo(200);
            com.fasterxml.jackson.databind.JsonNode body = new ObjectMapper().readTree(r.body());
            assertThat(body.get("version").asLong()).isEqualTo(2);
            float[] want = expected(transformer);
            com.fasterxml.jackson.databind.JsonNode probabilities = body.get("predictions").get(0).get("probabilities");
            for (int k = 0; k < CLASSES.size(); k++) {
                assertThat(probabilities.get(CLASSES.get(k)).asDouble()).as("answered by the transformer: " + CLASSES.get(k))
                        .isCloseTo(want[k], org.assertj.core.data.Offset.offset(1e-5));
            }
            publish(topic, bagAgain);
            awaitVersion(s, 3);
            assertThat(s.follower().refused()).isZero();
        }
    }

    /** Pinned to version 2, it serves 2 whatever is published after; started late, it loads only the newest. */
    @Test
    void aPinnedVersionStaysAndAStartAfterTheFactLoadsOnlyTheNewest() throws Exception {
        String topic = SharedLocalStack.newTopic("serve-pin", 1);
        for (long v = 1; v <= 3; v++) {
            publish(topic, publishable("p", v, 20 + v));
        }
        try (Serving pinned = serve(topic, "p", 2L); Serving newest = serve(topic, "p", null)) {
            awaitVersion(pinned, 2);
            awaitVersion(newest, 3);
            Thread.sleep(1000);
            assertThat(pinned.holder().peek().version()).isEqualTo(2);
            assertThat(newest.holder().swaps()).as("history read first: only the newest was loaded").isZero();
        }
    }

    /** A holder that keeps the previous version (for the teacher's version-change sampling) starts with the two newest and shifts them on. */
    @Test
    void aHolderKeepingThePreviousVersionHoldsTheTwoNewest() throws Exception {
        String topic = SharedLocalStack.newTopic("serve-previous", 1);
        for (long v = 1; v <= 3; v++) {
            publish(topic, publishable("k", v, 40 + v));
        }
        ModelHolder holder = new ModelHolder(true);
        Map<String, String> clients = Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                "schema.registry.url", SharedLocalStack.get().registryUrl());
        CheckpointFollower follower = new CheckpointFollower(new CheckpointFollower.Settings(clients, topic, "k", null), tokenizer, holder);
        Thread t = new Thread(null, follower, "follower", 64L << 20);
        t.start();
        try {
            awaitVersions(holder, 3, 2);
            publish(topic, publishable("k", 4, 44));
            awaitVersions(holder, 4, 3);
            try (ModelHolder.Lease previous = holder.acquirePrevious()) {
                assertThat(previous.model().score(List.of(PROBE))[0]).hasSize(CLASSES.size());
            }
        } finally {
            follower.close();
            t.join(10_000);
            holder.close();
        }
    }

    static void awaitVersions(ModelHolder holder, long current, long previous) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try (ModelHolder.Lease c = holder.acquire(); ModelHolder.Lease p = holder.acquirePrevious()) {
                if (c != null && p != null && c.model().version() == current && p.model().version() == previous) {
                    return;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("never held versions " + current + " and " + previous);
    }

    /**
     * 10,000 random and mutated bodies from 4 clients at once, under small limits: every answer is 200
     * or a 4xx with a JSON reason (never a 5xx), each counted, and the heap after a GC stays where it was.
     */
    @Test
    void fuzzedBodiesNeverGetA5xxAndTheHeapStaysFlat() throws Exception {
        String topic = SharedLocalStack.newTopic("serve-fuzz", 1);
        publish(topic, publishable("fuzz", 1, 5));
        Map<String, String> clients = Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                "schema.registry.url", SharedLocalStack.get().registryUrl());
        StudentServer.Limits limits = new StudentServer.Limits(16 * 1024, 16, 2000);
        try (Serving s = new Serving(new CheckpointFollower.Settings(clients, topic, "fuzz", null), "all-MiniLM-L6-v2", "127.0.0.1", 0, 4,
                limits)) {
            awaitVersion(s, 1);
            java.util.concurrent.ConcurrentHashMap<Integer, java.util.concurrent.atomic.AtomicInteger> statuses = new java.util.concurrent.ConcurrentHashMap<>();
            long heapBefore = usedHeapAfterGc();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int c = 0; c < 4; c++) {
                long seed = 1000 + c;
                done.add(pool.submit(() -> {
                    java.util.Random r = new java.util.Random(seed);
                    for (int i = 0; i < 2500; i++) {
                        byte[] body = fuzzBody(r, limits);
                        String method = r.nextInt(20) == 0 ? "PUT" : "POST";
                        String[] resp = rawPost(s.port(), method, body);
                        int status = Integer.parseInt(resp[0]);
                        statuses.computeIfAbsent(status, k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
                        if (status != 200) {
                            assertThat(resp[1]).as("a JSON reason for %d", status).contains("\"reason\"");
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
            long heapAfter = usedHeapAfterGc();
            System.out.printf("fuzz: statuses %s; used heap after GC %d MiB before, %d MiB after%n", new java.util.TreeMap<>(statuses),
                    heapBefore >> 20, heapAfter >> 20);
            assertThat(statuses.keySet()).as("no 5xx").allMatch(code -> code == 200 || code == 400 || code == 405 || code == 413);
            assertThat(statuses.values().stream().mapToInt(java.util.concurrent.atomic.AtomicInteger::get).sum()).isEqualTo(10_000);
            assertThat(statuses.keySet()).contains(200, 400, 405, 413);
            assertThat(heapAfter - heapBefore).as("heap growth after 10,000 requests").isLessThan(64L << 20);
            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("streamdistill_serving_rejected_total{reason=\"body_too_large\"} " + statuses.get(413).get());
            assertThat(predict(s, "{\"text\": \"still answering\"}").statusCode()).isEqualTo(200);
        }
    }

    /**
     * One request on its own connection, head and body in one write (a client that sends them in two
     * packets meets the server's delayed ACK: 40 ms a request); returns the status and the body.
     */
    private static String[] rawPost(int port, String method, byte[] body) throws java.io.IOException {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(30_000);
            byte[] head = (method + " /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] request = java.util.Arrays.copyOf(head, head.length + body.length);
            System.arraycopy(body, 0, request, head.length, body.length);
            try {
                socket.getOutputStream().write(request);
                socket.getOutputStream().flush();
            } catch (java.io.IOException closedEarly) {
                // A server refusing a body over its limit may close before reading all of it: its answer is still there.
            }
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int space = response.indexOf(' ');
            int end = response.indexOf("\r\n\r\n");
            return new String[] {response.substring(space + 1, space + 4), end < 0 ? "" : response.substring(end + 4)};
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

    /** A body from one of several families: valid, mutated, oversized, too many or too long texts, random bytes, deep nesting. */
    private static byte[] fuzzBody(java.util.Random r, StudentServer.Limits limits) {
        String valid = r.nextBoolean() ? "{\"text\": \"a small furry animal " + r.nextInt(1000) + "\"}"
                : "{\"texts\": [\"hot soup\", \"a tall tree\", \"\\u00e9t\\u00e9 \\ud83d\\ude80\"]}";
        switch (r.nextInt(8)) {
            case 0:
                return valid.getBytes(StandardCharsets.UTF_8);
            case 1: { // mutate a few bytes
                byte[] b = valid.getBytes(StandardCharsets.UTF_8);
                for (int k = 0; k < 1 + r.nextInt(4); k++) {
                    b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                }
                return b;
            }
            case 2: { // cut short or doubled
                byte[] b = valid.getBytes(StandardCharsets.UTF_8);
                return r.nextBoolean() ? java.util.Arrays.copyOf(b, r.nextInt(b.length)) : (valid + valid).getBytes(StandardCharsets.UTF_8);
            }
            case 3: { // over the body limit
                byte[] b = new byte[limits.maxBodyBytes() + 1 + r.nextInt(4096)];
                java.util.Arrays.fill(b, (byte) 'a');
                return b;
            }
            case 4: { // too many texts
                StringBuilder sb = new StringBuilder("{\"texts\": [");
                for (int k = 0; k <= limits.maxTexts(); k++) {
                    sb.append(k == 0 ? "" : ",").append("\"t").append(k).append('"');
                }
                return sb.append("]}").toString().getBytes(StandardCharsets.UTF_8);
            }
            case 5: // a text over the character limit
                return ("{\"text\": \"" + "x".repeat(limits.maxTextChars() + 1) + "\"}").getBytes(StandardCharsets.UTF_8);
            case 6: { // random bytes
                byte[] b = new byte[r.nextInt(512)];
                r.nextBytes(b);
                return b;
            }
            default: // deep nesting, wrong types
                return (r.nextBoolean() ? "[".repeat(2000) : "{\"texts\": [1, null, {\"a\": 2}]}").getBytes(StandardCharsets.UTF_8);
        }
    }
}
