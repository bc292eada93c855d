package io.streamdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.ClasspathFiles;
import io.streamdistill.student.tokenize.TextTokenizer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {

    /**
     * The closed loop: with --adaptive-sampling the demo's teacher follows the students the trainer job
     * publishes and skips records the newest one is sure of; every record is still a soft target, a
     * dead letter or a counted skip.
     */
    @Test
    void demoWithAdaptiveSamplingSkipsWhatTheStudentKnows(@TempDir Path dir) throws Exception {
        // On the secure stack: each component with its own principal, the teacher following the students under its ACLs.
        int exit = Main.run("demo", "--records", "2400", "--rate", "80", "--data-dir", dir.toString(), "--fresh", "--no-dashboard",
                "--export-every-seconds", "3", "--eval-texts", "100", "--adaptive-sampling", "--set", "export.every.records=300",
                "--secure");
        assertThat(exit).isZero();
        assertThat(dir.resolve("stack/secure/credentials.properties")).isRegularFile();

        JsonNode summary = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        assertThat(summary.get("records_produced").asLong()).isEqualTo(2400);
        assertThat(summary.get("soft_targets").asLong() + summary.get("dead_letters").asLong() + summary.get("teacher_skipped").asLong())
                .as("every record accounted for").isEqualTo(2400);
        assertThat(summary.get("teacher_skipped").asLong()).as("records the published student was sure of").isPositive();
        assertThat(summary.get("checkpoints_published").asLong()).isGreaterThanOrEqualTo(2);
        assertThat(summary.get("holdout_agreement").asDouble()).isGreaterThan(0.4);
        assertThat(summary.get("flink").get("mode").asText()).as("the trainer on a MiniCluster in the demo's JVM").isEqualTo("local");
        assertThat(summary.get("trainer_parallelism").asInt()).as("one training subtask by default").isEqualTo(1);
    }

    /**
     * {@code demo --object-store}: the trainer writes every version to S3Proxy (a child JVM) through Flink's S3 plugin,
     * nothing goes to the data directory's checkpoints/, the summary and the monitor read the versions back from the
     * store, and the store's secret is never printed.
     */
    @Test
    void demoKeepsItsStudentsOnAnObjectStore(@TempDir Path dir) throws Exception {
        PrintStream savedOut = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = Main.run("demo", "--records", "240", "--rate", "60", "--data-dir", dir.toString(), "--fresh",
                    "--export-every-seconds", "5", "--eval-texts", "100", "--object-store");
        } finally {
            System.setOut(savedOut);
        }
        String out = printed.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        assertThat(exit).isZero();
        JsonNode summary = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        JsonNode last = summary.get("last_checkpoint");
        assertThat(last.get("uri").asText()).startsWith("s3://streamdistill/artifacts/demo-classification/");
        assertThat(summary.get("holdout_agreement").asDouble()).as("the summary read the version from the store").isGreaterThan(0.5);
        Path object = dir.resolve("stack/s3/objects/streamdistill").resolve(URI.create(last.get("uri").asText()).getPath().substring(1));
        assertThat(Hashing.sha256(Files.readAllBytes(object))).isEqualTo(last.get("sha256").asText());
        assertThat(dir.resolve("checkpoints")).doesNotExist();
        JsonNode shadow = summary.at("/monitor/summary/students/demo-classification");
        assertThat(shadow.isObject()).as("the monitor shadow-scored the student: %s", summary.get("monitor")).isTrue();
        assertThat(shadow.get("refused").isNull()).as("the monitor read its version from the store: %s", shadow).isTrue();
        assertThat(shadow.get("version").asLong()).isPositive();
        java.util.Properties keys = new java.util.Properties();
        try (java.io.Reader r = Files.newBufferedReader(dir.resolve("stack/s3/credentials.properties"))) {
            keys.load(r);
        }
        assertThat(out).contains("objects:  s3://streamdistill/artifacts").doesNotContain(keys.getProperty("secret-key"));
    }

    /**
     * The demo end to end with a small N, its trainer on a Flink cluster of its own JVMs: every record
     * accounted for, a checkpoint whose artifact checks out and runs.
     */
    @Test
    void demoRunsEndToEndOnAFlinkClusterAndWritesASummary(@TempDir Path dir) throws Exception {
        int exit = Main.run("demo", "--records", "240", "--rate", "60", "--data-dir", dir.toString(), "--fresh",
                "--export-every-seconds", "5", "--eval-texts", "100", "--flink-cluster", "1");
        assertThat(exit).isZero();

        JsonNode summary = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        JsonNode flink = summary.get("flink");
        assertThat(flink.get("mode").asText()).isEqualTo("cluster");
        assertThat(flink.get("task_managers").asInt()).isEqualTo(1);
        assertThat(flink.get("job_id").asText()).hasSize(32);
        assertThat(dir.resolve("flink/log/taskmanager-0.log")).content().as("the job ran in the TaskManager's JVM")
                .contains("featurize");
        assertThat(summary.get("records_produced").asLong()).isEqualTo(240);
        assertThat(summary.get("soft_targets").asLong() + summary.get("dead_letters").asLong())
                .isEqualTo(summary.get("records_produced").asLong());
        assertThat(summary.get("checkpoints_published").asLong()).isGreaterThanOrEqualTo(2);
        // The warm-started student is published before it has trained on anything, and already agrees with the teacher.
        assertThat(summary.get("initial_records_seen").asLong()).isZero();
        assertThat(summary.get("initial_agreement").asDouble()).as("version 1, trained on 0 records").isGreaterThan(0.7);
        // The bundled corpus has hundreds of labelled rows per class: the teacher's head is fitted, and beat prototypes in CV.
        JsonNode head = summary.get("teacher_head");
        assertThat(head.get("type").asText()).isEqualTo("fitted");
        assertThat(head.get("cv_accuracy").asDouble()).isGreaterThan(head.get("prototype_cv_accuracy").asDouble());
        assertThat(dir.resolve("teacher.json")).isRegularFile();
        for (String field : List.of("teacher_records_per_second", "trainer_records_per_second", "holdout_agreement",
                "teacher_label_accuracy", "student_label_accuracy", "teacher_bytes", "student_bytes", "student_speedup",
                "elapsed_seconds")) {
            assertThat(summary.has(field)).as(field).isTrue();
        }
        JsonNode last = summary.get("last_checkpoint");
        Path artifact = Path.of(URI.create(last.get("uri").asText()));
        assertThat(artifact).startsWith(dir.resolve("checkpoints"));
        assertThat(Hashing.sha256(Files.readAllBytes(artifact))).isEqualTo(last.get("sha256").asText());
        Path tokenizerFile = ClasspathFiles.extract("all-minilm-l6-v2-tokenizer.json",
                ClasspathFiles.cacheDir("teachers").resolve("all-minilm-l6-v2"));
        try (TextTokenizer tok = TextTokenizer.load(tokenizerFile, "all-MiniLM-L6-v2", 128);
             StudentRunner runner = StudentRunner.load(artifact, last.get("sha256").asText(), tok, 1)) {
            assertThat(runner.score(List.of("a small furry animal"))[0]).hasSize(4);
        }
        assertThat(dir.resolve("stack/kafka")).isDirectory();
        assertThat(dir.resolve("stack/registry")).isDirectory();

        // A later command on the same data dir sees what the demo recorded.
        PrintStream savedOut = System.out;
        ByteArrayOutputStream inspected = new ByteArrayOutputStream();
        System.setOut(new PrintStream(inspected, true, StandardCharsets.UTF_8));
        try {
            assertThat(Main.run("inspect", "distill.checkpoints", "--data-dir", dir.toString(), "--max", "1", "--timeout", "15")).isZero();
        } finally {
            System.setOut(savedOut);
        }
        assertThat(inspected.toString(StandardCharsets.UTF_8)).contains("\"student\": \"demo-classification\"");

        // A data scientist replays what the demo left, twice with different settings, and compares.
        Path experiments = dir.resolve("experiments");
        assertThat(Main.run("replay", "--data-dir", dir.toString(), "--from", "earliest", "--name", "base",
                "--out", experiments.toString())).isZero();
        assertThat(Main.run("replay", "--data-dir", dir.toString(), "--from", "earliest", "--to", "latest", "--name", "hot",
                "--set", "training.temperature=4", "--set", "student.embedding.dim=32", "--out", experiments.toString())).isZero();
        JsonNode hot = new ObjectMapper().readTree(experiments.resolve("hot/experiment.json").toFile());
        JsonNode base = new ObjectMapper().readTree(experiments.resolve("base/experiment.json").toFile());
        // A replay starts from the settings of the student it replays (warm start, learning rate, ...) and changes only
        // what it is told; a width the warm start cannot fill falls back to a random start.
        assertThat(base.get("config").get("student.init").asText()).startsWith("static:");
        assertThat(base.get("config").get("training.learningRate").asText()).isEqualTo(WarmStartFiles.DEFAULT_LEARNING_RATE);
        assertThat(hot.get("config").get("student.init").asText()).isEqualTo("random");
        assertThat(hot.get("config").get("training.temperature").asText()).isEqualTo("4");
        assertThat(hot.get("config").get("student.classes").asText()).as("class names from the demo's checkpoints")
                .contains("animal").contains("food").doesNotContain("class_0");
        assertThat(hot.get("final").get("records_seen").asLong()).isPositive();
        assertThat(Main.run("report", experiments.resolve("base").toString(), experiments.resolve("hot").toString())).isZero();
        String report = Files.readString(experiments.resolve("report/report.md"));
        assertThat(report).contains("| base |").contains("| hot |").contains("training.temperature=4").contains("holdout_agreement.png");
        java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(experiments.resolve("report/holdout_agreement.png").toFile());
        assertThat(png.getWidth()).isEqualTo(ExperimentReport.WIDTH);
        assertThat(png.getHeight()).isEqualTo(ExperimentReport.HEIGHT);
        assertThat(experiments.resolve("report/holdout_kl.png")).isRegularFile();

        // Another teacher re-teaches the stored text into a topic of its own; a student is replayed from it.
        assertThat(Main.run("reteach", "--data-dir", dir.toString(), "--from", "earliest", "--teacher", "bge-small-en-v1.5-q",
                "--output-topic", "distill.soft-targets.bge")).isZero();
        assertThat(Main.run("replay", "--data-dir", dir.toString(), "--from", "earliest", "--topic", "distill.soft-targets.bge",
                "--name", "bge", "--out", experiments.toString())).isZero();
        JsonNode bge = new ObjectMapper().readTree(experiments.resolve("bge/experiment.json").toFile());
        assertThat(bge.get("config").get("student.task").asText()).isEqualTo("EMBEDDING");
        assertThat(bge.get("offsets_in_range").asLong()).as("every soft target of the re-teach (and its commit markers)")
                .isGreaterThanOrEqualTo(summary.get("soft_targets").asLong());
        assertThat(bge.get("final").get("metrics").get("holdout_agreement").asDouble()).isBetween(-1.0, 1.0);
    }

    /** The embedding task end to end: the student is scored by cosine to the teacher's vectors. */
    @Test
    void demoRunsTheEmbeddingTask(@TempDir Path dir) throws Exception {
        // A text file as users have them: a byte-order mark, CRLF and blank lines, and lines that are not texts.
        Path corpus = dir.resolve("lines.txt");
        java.io.ByteArrayOutputStream file = new java.io.ByteArrayOutputStream();
        file.write(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
        for (int i = 0; i < 300; i++) {
            file.write(("line number " + i + (i % 2 == 0 ? " about animals and plants" : " about food and people")
                    + (i % 3 == 0 ? "\r\n" : "\n")).getBytes(StandardCharsets.UTF_8));
            if (i == 10) {
                file.write(new byte[] {'c', 'a', 'f', (byte) 0xE9, '\n'}); // Latin-1, not UTF-8
                file.write("\n   \n".getBytes(StandardCharsets.UTF_8));
                file.write("binary\u0000junk\n".getBytes(StandardCharsets.UTF_8));
                file.write(("x".repeat(TextFile.MAX_RECORD_BYTES + 1) + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        Files.write(corpus, file.toByteArray());
        // No --task and the default --eval-texts (400): the unlabelled corpus picks the embedding task, and its 300
        // texts hold out a fifth, each said in one line.
        PrintStream savedOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            exit = Main.run("demo", "--corpus", corpus.toString(), "--records", "240", "--rate", "60",
                    "--data-dir", dir.resolve("data").toString(), "--fresh", "--export-every-seconds", "5");
        } finally {
            System.setOut(savedOut);
        }
        System.out.print(out.toString(StandardCharsets.UTF_8));
        assertThat(exit).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("has no labels, so the demo distils the teacher's embeddings")
                .contains("has 300 texts, fewer than twice --eval-texts 400: holding out 60 (a fifth)");
        JsonNode summary = new ObjectMapper().readTree(dir.resolve("data/summary.json").toFile());
        // 240 texts (the 300 less the 60 held out: each streamed once) and the two bad lines that fit in a record; the
        // teacher dead-letters those two with their reasons.
        assertThat(summary.get("records_produced").asLong()).isEqualTo(242);
        assertThat(summary.get("soft_targets").asLong() + summary.get("dead_letters").asLong()).isEqualTo(242);
        assertThat(summary.get("dead_letters").asLong()).isGreaterThanOrEqualTo(2);
        JsonNode lines = summary.get("lines");
        assertThat(lines.get("read").asLong()).isEqualTo(305);
        assertThat(lines.get("blank").asLong()).isEqualTo(2);
        assertThat(lines.get("bad_sent").asLong()).isEqualTo(2);
        assertThat(lines.get("refused").asLong()).as("the line too long for a Kafka record").isEqualTo(1);
        assertThat(lines.get("bad_by_problem").get("INVALID_UTF8").asLong()).isEqualTo(1);
        assertThat(lines.get("bad_by_problem").get("NUL").asLong()).isEqualTo(1);
        assertThat(lines.get("each_line_once").asBoolean()).isTrue();
        assertThat(lines.get("accounted").asLong()).as("every line accounted for").isEqualTo(lines.get("read").asLong());
        assertThat(summary.has("holdout_cosine")).isTrue();
        assertThat(summary.has("holdout_agreement")).isFalse();
        assertThat(summary.has("teacher_label_accuracy")).as("no labels in this corpus").isFalse();
        assertThat(summary.get("holdout_cosine").asDouble()).isBetween(-1.0, 1.0);
        assertThat(summary.get("initial_cosine").asDouble()).as("the warm start's cosine before training").isGreaterThan(0.3);
    }

    /** The summary's holdout: --eval-texts, a fifth of a small corpus, and one line for a corpus too small to split. */
    @Test
    void aSmallCorpusHoldsOutAFifth() {
        assertThat(DemoCommand.heldOut(1000, 400, "c")).isEqualTo(400);
        assertThat(DemoCommand.heldOut(799, 400, "c")).isEqualTo(159);
        assertThat(DemoCommand.heldOut(3, 400, "c")).isEqualTo(1);
        assertThatThrownBy(() -> DemoCommand.heldOut(1, 400, "notes.txt")).hasMessage("notes.txt has 1 usable text; the demo needs"
                + " at least 2 (texts to stream and texts to hold out for the summary)");
    }

    /**
     * distill-static writes a table that says where it came from; a second run reuses the cached one. The
     * default D and cache, so the demo tests and this one distil MiniLM once between them.
     */
    @Test
    void distillStaticWritesATableAndReusesItsCache(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("minilm.sdstatic");
        PrintStream savedOut = System.out;
        ByteArrayOutputStream first = new ByteArrayOutputStream();
        ByteArrayOutputStream second = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(first, true, StandardCharsets.UTF_8));
            assertThat(Main.run("distill-static", "--teacher", "all-MiniLM-L6-v2", "--out", out.toString())).isZero();
            System.setOut(new PrintStream(second, true, StandardCharsets.UTF_8));
            assertThat(Main.run("distill-static")).isZero();
        } finally {
            System.setOut(savedOut);
        }
        assertThat(first.toString(StandardCharsets.UTF_8)).contains("distilling all-MiniLM-L6-v2 (384-d, 30522 tokens) to D=128");
        assertThat(second.toString(StandardCharsets.UTF_8)).contains("reused the cached table");
        io.streamdistill.student.init.StaticTable t = io.streamdistill.student.init.StaticTable.read(out);
        assertThat(t.dim()).isEqualTo(128);
        assertThat(t.vocabSize()).isEqualTo(30522);
        // The cache is keyed by the encoder's sha256: a table first distilled for a headed variant of the encoder (the
        // demo's "all-MiniLM-L6-v2+fitted-head", in the machine's shared cache) is the same table and keeps that name.
        assertThat(t.teacher()).startsWith("all-MiniLM-L6-v2");
        try (io.streamdistill.teacher.model.Teacher minilm = io.streamdistill.teacher.model.Teacher.load(
                io.streamdistill.teacher.model.BuiltInTeachers.ALL_MINILM_L6_V2.descriptor(), 1,
                io.streamdistill.teacher.model.Teacher.Device.CPU, 0)) {
            assertThat(t.teacherSha256()).isEqualTo(minilm.encoderSha256());
        }
        assertThat(first.toString(StandardCharsets.UTF_8)).contains(t.sha256()).contains(t.teacherSha256());
        assertThat(Main.run("distill-static", "--dim", "999")).isEqualTo(2);
    }

    /** produce sends a file's texts; inspect prints them back as JSON lines through the registry. */
    @Test
    void produceThenInspect(@TempDir Path dir) throws Exception {
        String topic = SharedLocalStack.newTopic("cli-text", 1);
        Path file = dir.resolve("texts.csv");
        Files.writeString(file, "text,label\n\"hello, world\",greeting\nplain second line,\n");
        String[] kafka = {"--bootstrap-servers", SharedLocalStack.get().bootstrapServers(),
                "--registry-url", SharedLocalStack.get().registryUrl()};
        assertThat(Main.run(concat(new String[] {"produce", file.toString(), "--topic", topic, "--id-prefix", "t"}, kafka))).isZero();

        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            assertThat(Main.run(concat(new String[] {"inspect", topic, "--max", "2", "--timeout", "10"}, kafka))).isZero();
        } finally {
            System.setOut(saved);
        }
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(2);
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        assertThat(first.get("id").asText()).isEqualTo("t-0");
        assertThat(first.get("text").asText()).isEqualTo("hello, world");
        assertThat(lines.get(1)).contains("plain second line");
    }

    /** eval scores an exported student against the teacher, and refuses a file whose sha256 differs. */
    @Test
    void evalScoresACheckpointAndRefusesATamperedOne(@TempDir Path dir) throws Exception {
        Path texts = dir.resolve("texts.csv");
        Files.writeString(texts, "text,label\na small furry animal that hunts mice,animal\nbread baked with butter,food\n"
                + "a large grey animal with a trunk,animal\nsweet fruit pie with cream,food\nan unlabelled sentence,\n");
        io.streamdistill.student.model.StudentConfig config = io.streamdistill.student.model.StudentConfig.builder()
                .task(io.streamdistill.student.model.Task.CLASSIFICATION).vocabSize(30522).embeddingDim(16)
                .classNames(List.of("animal", "food")).build();
        byte[] model = io.streamdistill.student.onnx.OnnxExporter.export(new io.streamdistill.student.model.Student(config),
                new io.streamdistill.student.onnx.OnnxExporter.Metadata("all-MiniLM-L6-v2", 1));
        Path file = dir.resolve("model.onnx");
        Files.write(file, model);
        String sha = Hashing.sha256(model);

        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            assertThat(Main.run("eval", file.toString(), "--texts", texts.toString(), "--prototypes", texts.toString(),
                    "--sha256", sha)).isZero();
        } finally {
            System.setOut(saved);
        }
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("5 texts: agreement")
                .contains("label accuracy on 4 labelled: teacher 1.0000");
        assertThat(Main.run("eval", file.toString(), "--texts", texts.toString(), "--prototypes", texts.toString(),
                "--sha256", "0".repeat(64))).isEqualTo(3);
    }

    /** A bad flag or value: a one-line error and a non-zero exit code. */
    /** produce accounts for every line: fail stops before sending anything; send marks the bad lines for the teacher. */
    @Test
    void produceSendsBadLinesMarkedOrFailsNamingThem(@TempDir Path dir) throws Exception {
        String topic = SharedLocalStack.newTopic("cli-bad-lines", 1);
        Path file = dir.resolve("texts.csv");
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        bytes.write("text,label\r\ngood one,a\r\ntoo,many,fields\r\n".getBytes(StandardCharsets.UTF_8));
        bytes.write(new byte[] {'c', 'a', 'f', (byte) 0xE9, ',', 'b', '\r', '\n'});
        bytes.write("good two,b\r\n".getBytes(StandardCharsets.UTF_8));
        Files.write(file, bytes.toByteArray());
        String[] kafka = {"--bootstrap-servers", SharedLocalStack.get().bootstrapServers(),
                "--registry-url", SharedLocalStack.get().registryUrl()};

        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThat(Main.run(concat(new String[] {"produce", file.toString(), "--topic", topic, "--on-bad-line", "fail"}, kafka)))
                    .isEqualTo(2);
        } finally {
            System.setErr(saved);
        }
        assertThat(err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("streamdistill:")))
                .containsExactly("streamdistill: " + file + " line 3 (byte offset 24): has another number of CSV fields than the header"
                        + " (3 field(s) where the header has 2) (and 1 more bad line(s); --on-bad-line skip leaves them out)");

        assertThat(Main.run(concat(new String[] {"produce", file.toString(), "--topic", topic}, kafka))).isZero();
        List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> records = new java.util.ArrayList<>();
        try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> c = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                java.util.Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(), "group.id", "bad-lines-check",
                        "auto.offset.reset", "earliest"), new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (records.size() < 4 && System.nanoTime() < deadline) {
                c.poll(java.time.Duration.ofMillis(300)).forEach(records::add);
            }
        }
        assertThat(records).as("nothing was sent by the failed run; all four records by this one").hasSize(4);
        List<String> problems = records.stream().map(r -> r.headers().lastHeader(io.streamdistill.schemas.BadLineHeaders.PROBLEM))
                .map(h -> h == null ? "text" : new String(h.value(), StandardCharsets.UTF_8)).toList();
        assertThat(problems).containsExactly("text", "FIELD_COUNT", "INVALID_UTF8", "text");
        assertThat(records.get(2).value()).as("the line's own bytes").isEqualTo(new byte[] {'c', 'a', 'f', (byte) 0xE9, ',', 'b'});
    }

    @Test
    void badFlagsAndValuesFailWithOneLine() {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThat(Main.run("demo", "--rate", "abc")).isEqualTo(2);
            assertThat(Main.run("demo", "--task", "regression")).isEqualTo(2);
            assertThat(Main.run("demo", "--no-such-flag")).isEqualTo(2);
            assertThat(Main.run("produce", "/nonexistent/file.txt", "--bootstrap-servers", "x:1", "--registry-url", "http://x")).isEqualTo(2);
            assertThat(Main.run("replay", "--from", "earliest", "--name", "x", "--data-dir", "/nonexistent/dir")).isEqualTo(2);
            assertThat(Main.run("report", "/nonexistent/experiment")).isEqualTo(2);
            assertThat(Main.run("demo", "--preset", "fastest")).isEqualTo(2);
            assertThat(Main.run("serve", "--student", "s", "--cascade", "calls=0.2", "--bootstrap-servers", "x:1", "--registry-url",
                    "http://x")).isEqualTo(2);
            assertThat(Main.run("classify-stream", "--student", "s", "--input", "a", "--output", "a", "--bootstrap-servers", "x:1",
                    "--registry-url", "http://x")).isEqualTo(2);
        } finally {
            System.setErr(saved);
        }
        List<String> lines = err.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(9);
        assertThat(lines.get(0)).contains("--rate").contains("abc");
        assertThat(lines.get(1)).contains("--task").contains("regression");
        assertThat(lines.get(2)).contains("--no-such-flag");
        assertThat(lines.get(3)).contains("/nonexistent/file.txt");
        assertThat(lines.get(4)).contains("holds no demo state");
        assertThat(lines.get(5)).contains("not an experiment");
        assertThat(lines.get(6)).contains("--preset must be one of fast, balanced, quality, got 'fastest'");
        assertThat(lines.get(7)).contains("--cascade must be teacher-calls=SHARE or agreement=SHARE").contains("'calls=0.2'");
        assertThat(lines.get(8)).contains("--output must not be --input (a)");
    }

    /**
     * train --preset=balanced: the preset's settings under the user's, the teacher's ONNX file for
     * student.init=teacher, and the task from the teacher (MiniLM is an embedding teacher).
     */
    @Test
    void trainWithAPresetStartsFromTheTeachersFileWithTheUsersSettingsOnTop() {
        Map<String, String> flags = io.streamdistill.trainer.StudentTrainerJob.flags(TrainCommand.resolve(List.of("--preset=balanced",
                "--training.learningRate=0.001", "--input.topic=in")).toArray(String[]::new));
        assertThat(flags).containsEntry("student.arch", "transformer").containsEntry("student.init.blocks", "last:1")
                .containsEntry("training.learningRate", "0.001").containsEntry("input.topic", "in")
                .containsEntry("student.task", "EMBEDDING").containsEntry("student.output.dim", "384").doesNotContainKey("preset");
        assertThat(flags.get("student.init")).startsWith("teacher:").endsWith(".onnx");
        assertThat(Path.of(flags.get("student.init").substring("teacher:".length()))).isRegularFile();
        assertThat(TrainCommand.resolve(List.of("--preset=fast", "--input.topic=in"))).containsExactly("--student.arch=bag",
                "--input.topic=in");
        assertThatThrownBy(() -> TrainCommand.resolve(List.of("--preset=fast", "--teacher=all-MiniLM-L6-v2")))
                .hasMessageContaining("--teacher is only used with");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * fit-head on a small labelled slice of the bundled corpus: a cross-validated, calibrated head the
     * teacher loads, compared with prototypes on the same folds; too few rows per class is one line.
     */
    @Test
    void fitHeadWritesACalibratedHeadTheTeacherLoads(@TempDir Path dir) throws Exception {
        List<String> lines = Files.readAllLines(Path.of("../corpus/wordnet-4class.csv"), StandardCharsets.UTF_8);
        Path corpus = dir.resolve("small.csv");
        Files.write(corpus, lines.subList(0, 201), StandardCharsets.UTF_8);
        Path head = dir.resolve("head.json");
        assertThat(Main.run("fit-head", "--corpus", corpus.toString(), "--out", head.toString(), "--folds", "4")).isZero();
        JsonNode json = new ObjectMapper().readTree(head.toFile());
        for (String field : List.of("classes", "cv_accuracy", "cv_macro_f1", "prototype_cv_accuracy", "ece_before", "ece_after",
                "temperature", "sha256", "weights", "bias")) {
            assertThat(json.has(field)).as(field).isTrue();
        }
        assertThat(json.get("cv_accuracy").asDouble()).isGreaterThan(0.7);
        assertThat(json.get("classes")).hasSize(4);
        // The teacher loads it as its linear head.
        io.streamdistill.teacher.model.TeacherDescriptor d = io.streamdistill.teacher.model.BuiltInTeachers.ALL_MINILM_L6_V2.descriptor()
                .withHead(new io.streamdistill.teacher.model.TeacherDescriptor.LinearSpec(head), "minilm+fitted");
        try (io.streamdistill.teacher.model.Teacher t = io.streamdistill.teacher.model.Teacher.load(d, 1,
                io.streamdistill.teacher.model.Teacher.Device.CPU, 0)) {
            assertThat(t.classNames()).hasSize(4).contains("animal", "food", "plant", "person");
            float[] logits = t.infer(t.tokenizer().encode(List.of("a small furry animal that lives in trees")))[0];
            int best = 0;
            for (int c = 1; c < logits.length; c++) {
                best = logits[c] > logits[best] ? c : best;
            }
            assertThat(t.classNames().get(best)).isEqualTo("animal");
        }
        // Too few rows of a class for the folds: one line naming the class.
        Path tiny = dir.resolve("tiny.csv");
        Files.writeString(tiny, "text,label\na cat,animal\na dog,animal\nbread,food\n");
        PrintStream savedErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThat(Main.run("fit-head", "--corpus", tiny.toString(), "--out", dir.resolve("x.json").toString())).isEqualTo(2);
        } finally {
            System.setErr(savedErr);
        }
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("class 'animal' has 2 labelled rows, fewer than --folds 5");
    }
}
