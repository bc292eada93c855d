package io.streamdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code teacher}, {@code train} and {@code serve} run until stopped (or until a bounded input ends), so they run
 * here as real child processes of the CLI against the shared embedded stack.
 */
class ServiceCommandsTest {

    private static Process cli(Path log, String... args) throws Exception {
        // Default thread stacks on purpose: with this class path the teacher once died of a main-thread
        // stack overflow in native start-up code (a bare SIGSEGV); the entry points now run on a big stack.
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static <T> List<T> read(String topic, Class<T> type, int expected, Duration wait) {
        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build());
        AvroDeserializer<T> d = new AvroDeserializer<>(registry, type);
        List<T> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                "group.id", "verify-" + System.nanoTime(), "auto.offset.reset", "earliest", "isolation.level", "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + wait.toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r -> out.add(d.deserialize(topic, r.value())));
            }
        }
        return out;
    }

    /** teacher: consumes produced texts, publishes soft targets, and stops cleanly on SIGTERM. */
    @Test
    void teacherRunsAgainstAnExternalStackAndStopsOnSigterm(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("cmd-text", 1);
        String out = SharedLocalStack.newTopic("cmd-soft", 1);
        String dead = SharedLocalStack.newTopic("cmd-dead", 1);
        Path texts = dir.resolve("texts.txt");
        Files.writeString(texts, "first line for the teacher\nsecond line for the teacher\n");
        assertThat(Main.run("produce", texts.toString(), "--topic", in, "--bootstrap-servers", SharedLocalStack.get().bootstrapServers(),
                "--registry-url", SharedLocalStack.get().registryUrl())).isZero();

        Path log = dir.resolve("teacher.log");
        Process teacher = cli(log, "teacher", "--bootstrap.servers=" + SharedLocalStack.get().bootstrapServers(),
                "--schema.registry.url=" + SharedLocalStack.get().registryUrl(), "--input.topic=" + in, "--output.topic=" + out,
                "--dead.letter.topic=" + dead, "--http.port=-1", "--transactional.id=cmd-teacher", "--group.id=cmd-teacher");
        try {
            List<SoftTarget> targets = read(out, SoftTarget.class, 2, Duration.ofSeconds(90));
            assertThat(targets).extracting(SoftTarget::getText)
                    .containsExactlyInAnyOrder("first line for the teacher", "second line for the teacher");
            teacher.destroy(); // SIGTERM: the shutdown hook stops the loop gracefully
            assertThat(teacher.waitFor(60, TimeUnit.SECONDS)).as("stopped within 60 s of SIGTERM").isTrue();
            assertThat(teacher.exitValue()).isEqualTo(143); // 128 + SIGTERM: shutdown hooks ran, no crash
            assertThat(read(out, SoftTarget.class, 3, Duration.ofSeconds(3))).as("nothing published twice").hasSize(2);
        } finally {
            teacher.destroyForcibly();
        }
    }

    /** train: a bounded run over soft targets publishes a checkpoint and exits by itself with 0. */
    @Test
    void trainRunsABoundedJobAgainstAnExternalStack(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("cmd-train-soft", 1);
        String out = SharedLocalStack.newTopic("cmd-train-checkpoints", 1);
        // Soft targets from the real teacher, via the teacher command's library, are not needed: the
        // trainer only needs records of the SoftTarget schema, which the produce+teacher test covers.
        io.streamdistill.teacher.model.Teacher t = io.streamdistill.teacher.model.Teacher.load(
                io.streamdistill.teacher.model.BuiltInTeachers.ALL_MINILM_L6_V2.descriptor().withHead(
                        new io.streamdistill.teacher.model.TeacherDescriptor.PrototypeSpec(Map.of(
                                "animal", List.of("a small furry animal", "a bird that sings"),
                                "food", List.of("bread with butter", "a bowl of soup")), 20f), "cmd-proto"),
                1, io.streamdistill.teacher.model.Teacher.Device.CPU, 0);
        try (t) {
            io.streamdistill.schemas.serde.AvroSerializer<SoftTarget> ser = new io.streamdistill.schemas.serde.AvroSerializer<>(
                    new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build()));
            List<String> corpus = List.of("a cat chasing a mouse", "hot vegetable stew", "an eagle over the hills",
                    "fresh apple pie", "a dog in the garden", "rice with beans");
            try (var p = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(Map.of("bootstrap.servers",
                    SharedLocalStack.get().bootstrapServers()), new org.apache.kafka.common.serialization.ByteArraySerializer(),
                    new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                for (int i = 0; i < 300; i++) {
                    String text = corpus.get(i % corpus.size());
                    List<Float> logits = new ArrayList<>();
                    for (float f : t.infer(t.tokenizer().encode(List.of(text)))[0]) {
                        logits.add(f);
                    }
                    SoftTarget st = SoftTarget.newBuilder().setId("cmd-" + i).setText(text).setLabel(null)
                            .setEventTime(java.time.Instant.now()).setTeacher(t.ref()).setTask(io.streamdistill.records.Task.CLASSIFICATION)
                            .setClassLogits(logits).setEmbedding(null).setLanguageModel(null).setInputTokens(8).setTruncated(false)
                            .setTeacherLatencyMicros(0).setProducedAt(java.time.Instant.now()).build();
                    p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(in, ser.serialize(in, st)));
                }
            }
        }
        Path log = dir.resolve("train.log");
        Process train = cli(log, "train", "--bootstrap.servers=" + SharedLocalStack.get().bootstrapServers(),
                "--schema.registry.url=" + SharedLocalStack.get().registryUrl(), "--input.topic=" + in, "--output.topic=" + out,
                "--student.classes=animal,food", "--student.name=cmd", "--starting.offsets=earliest", "--bounded.end=latest",
                "--export.every.records=100", "--holdout.percent=10", "--checkpoint.interval.ms=1000",
                "--artifact.dir=" + dir.resolve("artifacts").toUri(), "--checkpoint.dir=" + dir.resolve("flink").toUri(),
                "--transactional.id.prefix=cmd-train");
        try {
            assertThat(train.waitFor(180, TimeUnit.SECONDS)).as("the bounded job ends by itself").isTrue();
            assertThat(train.exitValue()).as(Files.readString(log, StandardCharsets.UTF_8)).isZero();
            List<StudentCheckpoint> published = read(out, StudentCheckpoint.class, 1, Duration.ofSeconds(10));
            assertThat(published).isNotEmpty();
            assertThat(published.get(published.size() - 1).getStudent()).isEqualTo("cmd");
        } finally {
            train.destroyForcibly();
        }

        // train --student.init=static --teacher=DESCRIPTOR: the static table (cached) and the head come from the
        // teacher, and the warm-started student is published before it has trained on a record.
        io.streamdistill.teacher.model.TeacherDescriptor minilm = io.streamdistill.teacher.model.BuiltInTeachers.ALL_MINILM_L6_V2.descriptor();
        Path descriptor = dir.resolve("teacher.json");
        Files.writeString(descriptor, "{\"id\": \"cmd-proto\", \"model\": \"" + minilm.model().toAbsolutePath() + "\", \"tokenizer\": \""
                + minilm.tokenizer().toAbsolutePath() + "\", \"pooling\": \"MEAN\", \"head\": {\"type\": \"prototypes\", \"scale\": 20,"
                + " \"examples\": {\"animal\": [\"a small furry animal\", \"a bird that sings\"], \"food\": [\"bread with butter\","
                + " \"a bowl of soup\"]}}}");
        String warmOut = SharedLocalStack.newTopic("cmd-train-warm", 1);
        Process warm = cli(dir.resolve("train-warm.log"), "train", "--bootstrap.servers=" + SharedLocalStack.get().bootstrapServers(),
                "--schema.registry.url=" + SharedLocalStack.get().registryUrl(), "--input.topic=" + in, "--output.topic=" + warmOut,
                "--student.init=static", "--teacher=" + descriptor, "--student.name=cmd-warm", "--starting.offsets=earliest",
                "--bounded.end=latest", "--export.every.records=100", "--holdout.percent=10", "--checkpoint.interval.ms=1000",
                "--artifact.dir=" + dir.resolve("artifacts").toUri(), "--checkpoint.dir=" + dir.resolve("flink-warm").toUri(),
                "--transactional.id.prefix=cmd-train-warm");
        try {
            assertThat(warm.waitFor(240, TimeUnit.SECONDS)).as("the bounded job ends by itself").isTrue();
            assertThat(warm.exitValue()).as(Files.readString(dir.resolve("train-warm.log"), StandardCharsets.UTF_8)).isZero();
            List<StudentCheckpoint> published = read(warmOut, StudentCheckpoint.class, 2, Duration.ofSeconds(10));
            assertThat(published.get(0).getVersion()).isEqualTo(1L);
            assertThat(published.get(0).getRecordsSeen()).as("the warm start, published before training").isZero();
            assertThat(published.get(0).getClassNames()).containsExactly("animal", "food");
            assertThat(published.get(0).getSettings().get("student.init").toString()).startsWith("static:");
        } finally {
            warm.destroyForcibly();
        }

        // serve: the newest published version answers over HTTP, naming itself.
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path serveLog = dir.resolve("serve.log");
        Process serve = cli(serveLog, "serve", "--bootstrap-servers", SharedLocalStack.get().bootstrapServers(),
                "--registry-url", SharedLocalStack.get().registryUrl(), "--checkpoints-topic", out, "--student", "cmd",
                "--port", String.valueOf(port));
        try {
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
                    + "/v1/predict")).POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"texts\": [\"a cat\", \"some soup\"]}")).build();
            String body = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (body == null && System.nanoTime() < deadline && serve.isAlive()) {
                try {
                    java.net.http.HttpResponse<String> r = http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
                    body = r.statusCode() == 200 ? r.body() : null;
                } catch (java.io.IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(300);
            }
            assertThat(body).as(() -> (serve.isAlive() ? "running" : "exited " + serve.exitValue()) + ": " + readQuietly(serveLog)).isNotNull();
            com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
            assertThat(json.get("student").asText()).isEqualTo("cmd");
            assertThat(json.get("predictions")).hasSize(2);
            assertThat(json.get("predictions").get(0).get("label").asText()).isIn("animal", "food");
        } finally {
            serve.destroy();
            serve.waitFor(30, TimeUnit.SECONDS);
            serve.destroyForcibly();
        }
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
