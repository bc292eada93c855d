package io.streamdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.localstack.LocalStack;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.Topics;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.serving.CheckpointFollower;
import io.streamdistill.serving.Serving;
import io.streamdistill.student.Hashing;
import io.streamdistill.trainer.finetune.StudentLine;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's fourth step on what a demo leaves: a published student is fine-tuned on labelled rows
 * and published as a new version with its lineage; serve swaps to it; a refusing gate publishes
 * nothing; a tampered parent is refused.
 */
class FinetuneCommandTest {

    @Test
    void finetunePublishesAVersionWithLineageThatServeSwapsTo(@TempDir Path dir) throws Exception {
        // Start: a short demo leaves a published student, its soft targets and its teacher.
        assertThat(Main.run("demo", "--records", "600", "--rate", "100", "--data-dir", dir.toString(), "--fresh", "--no-dashboard",
                "--export-every-seconds", "4", "--eval-texts", "100")).isZero();
        assertThat(dir.resolve("teacher.json")).isRegularFile();
        Path data = labelledData(dir.resolve("labelled.csv"), 40);

        try (LocalStack stack = LocalStack.builder().dataDir(dir.resolve("stack")).topics(Topics.ALL, 1).build().start()) {
            Map<String, String> base = Map.of("bootstrap.servers", stack.bootstrapServers(), "schema.registry.url", stack.registryUrl());
            SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.builder(stack.registryUrl()).build());
            StudentLine before = StudentLine.read(base, registry, Topics.CHECKPOINTS, "demo-classification");
            StudentCheckpoint parent = before.versions().get(before.versions().size() - 1);
            // The demo's trainer is stopped; finetune waits out its export cadence before it believes so.
            Thread.sleep(Math.max(0, Duration.between(Instant.now(), parent.getCreatedAt().plusSeconds(13)).toMillis()));
            String[] cluster = {"--bootstrap-servers", stack.bootstrapServers(), "--registry-url", stack.registryUrl(),
                    "--teacher", dir.resolve("teacher.json").toString()};

            try (Serving serving = new Serving(new CheckpointFollower.Settings(base, Topics.CHECKPOINTS, "demo-classification", null),
                    "all-MiniLM-L6-v2", 0, 2)) {
                awaitServed(serving, parent.getVersion());

                // A gate the candidate cannot pass: exit 1, nothing published, the report says why.
                assertThat(Main.run(args(cluster, "finetune", "--student", "demo-classification", "--data", data.toString(),
                        "--epochs", "2", "--publish", "--gate", "gate.min.agreement=1", "--out", dir.resolve("refused").toString())))
                        .isEqualTo(1);
                JsonNode refused = new ObjectMapper().readTree(dir.resolve("refused/finetune.json").toFile());
                assertThat(refused.get("refusal").asText()).contains("below gate.min.agreement=1");
                assertThat(refused.get("version").isNull()).isTrue();
                assertThat(StudentLine.read(base, registry, Topics.CHECKPOINTS, "demo-classification").highestVersion())
                        .isEqualTo(parent.getVersion());

                // A trainer cancelled between an export's file and its record leaves a file no record names
                // (the demo's may have, too): finetune publishes above that number and leaves the file alone.
                Path studentDir = Path.of(URI.create(parent.getArtifact().getUri())).getParent().getParent();
                long unpublished = highestDirectory(studentDir) + 1;
                Path orphan = Files.createDirectories(studentDir.resolve(String.valueOf(unpublished))).resolve("model.onnx");
                Files.writeString(orphan, "an export whose checkpoint never completed");
                long expected = unpublished + 1;

                // Fine-tune and publish: a new version whose lineage names its parent and its data.
                Path out = dir.resolve("finetune");
                assertThat(Main.run(args(cluster, "finetune", "--student", "demo-classification", "--data", data.toString(),
                        "--epochs", "3", "--publish", "--out", out.toString()))).isZero();
                JsonNode report = new ObjectMapper().readTree(out.resolve("finetune.json").toFile());
                assertThat(report.get("parent_version").asLong()).isEqualTo(parent.getVersion());
                assertThat(report.get("version").asLong()).isEqualTo(expected);
                for (String part : List.of("before", "after")) {
                    for (String field : List.of("accuracy", "macro_f1", "agreement")) {
                        assertThat(report.get(part).get(field).asDouble()).as(part + "." + field).isBetween(0.0, 1.0);
                    }
                }
                assertThat(report.get("teacher").get("accuracy").asDouble()).isBetween(0.0, 1.0);
                assertThat(report.get("curve")).hasSize(4);
                assertThat(Files.readString(out.resolve("report.md"))).contains("| after epoch 3 |").contains(FinetuneReport.CURVE);
                assertThat(javax.imageio.ImageIO.read(out.resolve(FinetuneReport.CURVE).toFile()).getWidth()).isEqualTo(ExperimentReport.WIDTH);

                StudentCheckpoint tuned = StudentLine.read(base, registry, Topics.CHECKPOINTS, "demo-classification").version("latest");
                assertThat(tuned.getVersion()).isEqualTo(expected);
                assertThat(Files.readString(orphan)).isEqualTo("an export whose checkpoint never completed");
                assertThat(tuned.getFineTune().getParentVersion()).isEqualTo(parent.getVersion());
                assertThat(tuned.getFineTune().getParentSha256()).isEqualTo(parent.getArtifact().getSha256());
                assertThat(tuned.getFineTune().getDatasetSha256()).isEqualTo(Hashing.sha256(Files.readAllBytes(data)));
                assertThat(tuned.getFineTune().getDatasetRows()).isEqualTo(160);
                assertThat(tuned.getFineTune().getTrainRows()).isEqualTo(128);
                assertThat(tuned.getSettings()).containsEntry("finetune.epochs", "3");
                assertThat(tuned.getMetrics()).containsKeys("holdout_agreement", "test_accuracy", "parent_test_accuracy");

                // serve swaps to the fine-tuned version.
                awaitServed(serving, tuned.getVersion());

                // serve --cascade: the teacher answers what the student is least sure of, calibrated on the held-out soft targets.
                try (io.streamdistill.teacher.cascade.CascadeTeacher teacher = io.streamdistill.teacher.cascade.CascadeTeacher.load(null, dir);
                     Serving cascading = new Serving(new CheckpointFollower.Settings(base, Topics.CHECKPOINTS, "demo-classification", null),
                             "all-MiniLM-L6-v2", "127.0.0.1", 0, 2, io.streamdistill.serving.StudentServer.Limits.DEFAULTS,
                             new io.streamdistill.serving.Cascade(teacher, io.streamdistill.serving.Cascade.Target.parse("teacher-calls=0.3"),
                                     io.streamdistill.serving.CascadeHoldout.read(base, Topics.CHECKPOINTS, "demo-classification",
                                             Topics.SOFT_TARGETS, 2000, teacher.classNames())))) {
                    awaitServed(cascading, tuned.getVersion());
                    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
                    List<String> texts = Files.readAllLines(data).subList(1, 41).stream().map(l -> l.substring(1, l.lastIndexOf("\",")))
                            .toList();
                    JsonNode answers = new ObjectMapper().readTree(http.send(java.net.http.HttpRequest.newBuilder(URI.create(
                            "http://127.0.0.1:" + cascading.port() + "/v1/predict")).POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                            new ObjectMapper().writeValueAsString(Map.of("texts", texts)))).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString()).body()).get("predictions");
                    assertThat(answers).hasSize(40).allSatisfy(a -> assertThat(a.get("answered_by").asText()).isIn("student", "teacher"));
                    JsonNode cascade = new ObjectMapper().readTree(http.send(java.net.http.HttpRequest.newBuilder(URI.create(
                            "http://127.0.0.1:" + cascading.port() + "/v1/model")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString()).body()).get("cascade");
                    assertThat(cascade.get("holdout_texts").asInt()).as("the trainer's held-out soft targets").isGreaterThanOrEqualTo(10);
                    assertThat(cascade.get("estimated_teacher_share").asDouble()).isLessThanOrEqualTo(0.3);
                    assertThat(cascade.get("estimated_agreement").asDouble()).isGreaterThanOrEqualTo(
                            cascade.get("student_alone_agreement").asDouble());
                    assertThat(cascade.get("teacher_texts").asLong()).isEqualTo(
                            java.util.stream.StreamSupport.stream(answers.spliterator(), false)
                                    .filter(a -> a.get("answered_by").asText().equals("teacher")).count());
                }

                // A data file with a label the student does not have: one line naming the row, nothing trained.
                Path bad = dir.resolve("bad.csv");
                Files.writeString(bad, Files.readString(data) + "a shiny red car,vehicle\n");
                ByteArrayOutputStream badErr = new ByteArrayOutputStream();
                PrintStream saved = System.err;
                System.setErr(new PrintStream(badErr, true, StandardCharsets.UTF_8));
                try {
                    assertThat(Main.run(args(cluster, "finetune", "--student", "demo-classification", "--data", bad.toString(),
                            "--out", dir.resolve("bad").toString()))).isEqualTo(2);
                } finally {
                    System.setErr(saved);
                }
                assertThat(badErr.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("streamdistill:")))
                        .containsExactly("streamdistill: --data " + bad + " line 162: label 'vehicle' is not one of the student's"
                                + " classes " + tuned.getClassNames());

                // A parent whose file changed after publication is refused before anything is trained.
                Path file = Path.of(URI.create(tuned.getArtifact().getUri()));
                byte[] bytes = Files.readAllBytes(file);
                bytes[bytes.length / 2] ^= 1;
                Files.write(file, bytes);
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                PrintStream savedErr = System.err;
                System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
                int exit;
                try {
                    exit = Main.run(args(cluster, "finetune", "--student", "demo-classification", "--data", data.toString(),
                            "--out", dir.resolve("tampered").toString()));
                } finally {
                    System.setErr(savedErr);
                }
                assertThat(exit).isEqualTo(3);
                assertThat(err.toString(StandardCharsets.UTF_8)).contains("version " + tuned.getVersion()).contains("altered after publication");
                assertThat(dir.resolve("tampered")).doesNotExist();

                // A transformer student fine-tunes the same way: a replay of the stream into a small transformer, then
                // finetune from its published file, published to an experiment topic of its own.
                assertThat(Main.run(args(cluster, "replay", "--from", "earliest", "--name", "tf", "--out", dir.resolve("experiments")
                        .toString(), "--publish-to", "experiments.tf", "--set", "student.arch=transformer", "--set",
                        "student.transformer.layers=1", "--set", "student.transformer.width=16", "--set", "student.transformer.heads=2",
                        "--set", "student.transformer.ffn=32", "--set", "training.learningRate=0.003"))).isZero();
                StudentCheckpoint tfParent = StudentLine.read(base, registry, "experiments.tf", "tf").version("latest");
                assertThat(tfParent.getArchitecture()).startsWith("transformer 1x16");
                Path tfOut = dir.resolve("tf-finetune");
                assertThat(Main.run(args(cluster, "finetune", "--student", "tf", "--checkpoints-topic", "experiments.tf", "--data",
                        data.toString(), "--epochs", "2", "--publish-to", "experiments.tf-tuned", "--gate", "gate.min.agreement=0",
                        "--out", tfOut.toString()))).isZero();
                JsonNode tfReport = new ObjectMapper().readTree(tfOut.resolve("finetune.json").toFile());
                assertThat(tfReport.get("curve")).hasSize(3);
                StudentCheckpoint tfTuned = StudentLine.read(base, registry, "experiments.tf-tuned", "tf").version("latest");
                assertThat(tfTuned.getArchitecture()).isEqualTo(tfParent.getArchitecture());
                assertThat(tfTuned.getFineTune().getParentVersion()).isEqualTo(tfParent.getVersion());
                assertThat(tfTuned.getVersion()).isGreaterThan(tfParent.getVersion());
                io.streamdistill.student.train.Learner tfStudent = StudentLine.load(tfTuned,
                        io.streamdistill.student.train.TrainingConfig.defaults());
                assertThat(tfStudent.architecture()).isEqualTo("transformer");
                assertThat(tfStudent.step()).isZero();

                // The fine-tuned transformer answers a stream: classify-stream (Kafka Streams, exactly once) reads texts
                // and writes one prediction per text, naming the version (and, through a cascade, who answered), and a
                // dead letter for a value that is no text.
                try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                        Map.<String, Object>of("bootstrap.servers", stack.bootstrapServers()))) {
                    admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("texts-in", 1, (short) 1))).all().get();
                }
                try (org.apache.kafka.clients.producer.KafkaProducer<String, byte[]> producer = new org.apache.kafka.clients.producer
                        .KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", stack.bootstrapServers()),
                        new org.apache.kafka.common.serialization.StringSerializer(),
                        new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                    for (int i = 0; i < 20; i++) {
                        producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("texts-in", "id-" + i,
                                ("a dog that barks at night " + i).getBytes(StandardCharsets.UTF_8))).get();
                    }
                    producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("texts-in", "bad", new byte[] {(byte) 0xC3})).get();
                }
                String[] brokers = {"--bootstrap-servers", stack.bootstrapServers(), "--registry-url", stack.registryUrl()};
                assertThat(Main.run(args(brokers, "classify-stream", "--student", "tf", "--checkpoints-topic", "experiments.tf-tuned",
                        "--input", "texts-in", "--output", "predictions-out", "--duration", "PT15S", "--cascade", "teacher-calls=0.5",
                        "--teacher", dir.resolve("teacher.json").toString()))).isZero();
                Map<String, JsonNode> predictions = new java.util.TreeMap<>();
                for (var r : io.streamdistill.schemas.TopicSnapshot.read(base, "predictions-out", r -> r, 100, Duration.ofSeconds(30))) {
                    predictions.put(new String(r.key(), StandardCharsets.UTF_8), new ObjectMapper().readTree(r.value()));
                }
                assertThat(predictions).hasSize(20);
                assertThat(predictions.values()).allSatisfy(p -> {
                    assertThat(p.get("version").asLong()).isEqualTo(tfTuned.getVersion());
                    assertThat(p.get("label").asText()).isIn(tfTuned.getClassNames());
                    assertThat(p.get("answered_by").asText()).as("through the cascade").isIn("student", "teacher");
                });
                assertThat(io.streamdistill.schemas.TopicSnapshot.read(base, "predictions-out.dead-letters", r -> r, 100,
                        Duration.ofSeconds(30))).hasSize(1);
            }
        }
    }

    private static String[] args(String[] cluster, String... command) {
        String[] all = java.util.Arrays.copyOf(command, command.length + cluster.length);
        System.arraycopy(cluster, 0, all, command.length, cluster.length);
        return all;
    }

    /** {@code perClass} labelled rows of each of the bundled corpus's classes, as a CSV. */
    static Path labelledData(Path file, int perClass) throws Exception {
        Map<String, Integer> counts = new LinkedHashMap<>();
        StringBuilder csv = new StringBuilder("text,label\n");
        List<Corpus.Row> rows = Corpus.bundled().rows();
        for (int i = rows.size() - 1; i >= 0; i--) { // from the end: the rows a demo holds out of its stream
            Corpus.Row r = rows.get(i);
            if (r.label() != null && counts.merge(r.label(), 1, Integer::sum) <= perClass) {
                csv.append('"').append(r.text().replace("\"", "\"\"")).append("\",").append(r.label()).append('\n');
            }
        }
        Files.writeString(file, csv.toString());
        return file;
    }

    /** The highest numbered version directory under a student's artifact directory. */
    private static long highestDirectory(Path studentDir) throws Exception {
        try (var entries = Files.list(studentDir)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.matches("\\d+")).mapToLong(Long::parseLong).max()
                    .orElseThrow();
        }
    }

    private static void awaitServed(Serving serving, long version) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && (serving.holder().peek() == null || serving.holder().peek().version() != version)) {
            Thread.sleep(200);
        }
        assertThat(serving.holder().peek()).as("a served model").isNotNull();
        assertThat(serving.holder().peek().version()).isEqualTo(version);
    }
}
