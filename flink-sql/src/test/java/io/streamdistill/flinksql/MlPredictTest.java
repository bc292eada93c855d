package io.streamdistill.flinksql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.serving.StudentVersions;
import io.streamdistill.student.tokenize.StudentTokenizers;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.ColumnList;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ML_PREDICT with the streamdistill provider on a local MiniCluster, over a Kafka table, with the
 * embedded broker and the real registry: start the query, produce texts, publish versions while it
 * runs, verify every row is answered once by the version current at the time, a tampered version is
 * refused while the old one keeps answering, and the Table API path gives the same answers.
 */
class MlPredictTest {
    static SchemaRegistryClient registry;
    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        registry = new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build());
    }

    @Test
    void aRunningSqlJobMovesToNewVersionsAndRefusesATamperedOne() throws Exception {
        String checkpoints = SharedLocalStack.newTopic("sql-checkpoints", 1);
        String texts = SharedLocalStack.newTopic("sql-texts", 1);
        StudentVersions versions = new StudentVersions(dir, StudentTokenizers.load("all-MiniLM-L6-v2", 128));
        StudentVersions.publish(registry, checkpoints, versions.bag("sql", 1, 51));
        StreamTableEnvironment tEnv = tableEnvironment();
        tEnv.executeSql(textsTable(texts));
        tEnv.executeSql(model("m", checkpoints, "sql", "label STRING, confidence DOUBLE, probabilities ARRAY<DOUBLE>, version BIGINT"));

        // Start the job, then produce.
        TableResult result = tEnv.executeSql("SELECT id, label, confidence, probabilities, version FROM ML_PREDICT(TABLE texts,"
                + " MODEL m, DESCRIPTOR(text))");
        Map<String, List<Long>> answers = new TreeMap<>();
        try (CloseableIterator<Row> rows = result.collect()) {
            produce(texts, 0, 20);
            List<Row> first = take(rows, 20, answers);
            assertThat(first).allSatisfy(r -> assertThat(r.<Long>getFieldAs("version")).isEqualTo(1L));
            Row sample = first.get(0);
            assertThat(StudentVersions.CLASSES).contains(sample.<String>getFieldAs("label"));
            assertThat(sample.<Double>getFieldAs("confidence")).isBetween(0.0, 1.0);
            assertThat(sample.<Double[]>getFieldAs("probabilities")).hasSize(StudentVersions.CLASSES.size());

            // Version 2 is published while the job runs: rows move to it without a restart.
            StudentVersions.publish(registry, checkpoints, versions.bag("sql", 2, 52));
            long published = System.nanoTime();
            int next = 20;
            long version = 1;
            while (version != 2) {
                assertThat(System.nanoTime() - published).as("version 2 answering within 30 s").isLessThan(Duration.ofSeconds(30).toNanos());
                produce(texts, next, next + 1);
                version = take(rows, 1, answers).get(0).<Long>getFieldAs("version");
                next++;
            }
            System.out.printf("version 2 answered %.1f s after its record was published%n", (System.nanoTime() - published) / 1e9);

            // Version 3's file is altered after publication: refused; version 2 keeps answering.
            StudentCheckpoint v3 = versions.bag("sql", 3, 53);
            Path file = Path.of(URI.create(v3.getArtifact().getUri()));
            byte[] bytes = Files.readAllBytes(file);
            bytes[bytes.length / 2] ^= 1;
            Files.write(file, bytes);
            StudentVersions.publish(registry, checkpoints, v3);
            Thread.sleep(3000); // the follower reads it, checks it and refuses it
            produce(texts, next, next + 10);
            assertThat(take(rows, 10, answers)).allSatisfy(r -> assertThat(r.<Long>getFieldAs("version")).isEqualTo(2L));
            next += 10;

            // The follower is still following: version 4 answers.
            StudentVersions.publish(registry, checkpoints, versions.bag("sql", 4, 54));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (version != 4) {
                assertThat(System.nanoTime()).as("version 4 answering within 30 s").isLessThan(deadline);
                produce(texts, next, next + 1);
                version = take(rows, 1, answers).get(0).<Long>getFieldAs("version");
                next++;
            }
            // Every row answered once, by id.
            assertThat(answers).hasSize(next);
            assertThat(answers.values()).allSatisfy(v -> assertThat(v).as("answered once").hasSize(1));
            for (int i = 0; i < next; i++) {
                assertThat(answers).containsKey("t-" + i);
            }
        }
    }

    @Test
    void theTableApiPredictsTooAndBadModelsFailAtPlanningWithTheReason() throws Exception {
        String checkpoints = SharedLocalStack.newTopic("sql-api-checkpoints", 1);
        StudentVersions versions = new StudentVersions(dir, StudentTokenizers.load("all-MiniLM-L6-v2", 128));
        StudentVersions.publish(registry, checkpoints, versions.bag("api", 1, 61));
        StreamTableEnvironment tEnv = tableEnvironment();
        tEnv.executeSql(model("m", checkpoints, "api", "label STRING, version BIGINT, student STRING"));
        Table input = tEnv.fromValues(org.apache.flink.table.api.DataTypes.ROW(
                org.apache.flink.table.api.DataTypes.FIELD("text", org.apache.flink.table.api.DataTypes.STRING())),
                Row.of("a small furry animal"), Row.of("hot vegetable soup"), Row.of((Object) null));
        List<Row> rows = new ArrayList<>();
        try (CloseableIterator<Row> it = tEnv.fromModel("m").predict(input, ColumnList.of("text")).execute().collect()) {
            it.forEachRemaining(rows::add);
        }
        assertThat(rows).hasSize(3);
        assertThat(rows).filteredOn(r -> r.getField("text") != null).hasSize(2).allSatisfy(r -> {
            assertThat(r.<Long>getFieldAs("version")).isEqualTo(1L);
            assertThat(r.<String>getFieldAs("student")).isEqualTo("api");
            assertThat(StudentVersions.CLASSES).contains(r.<String>getFieldAs("label"));
        });
        assertThat(rows).filteredOn(r -> r.getField("text") == null).as("a null text gets a row of nulls").singleElement()
                .satisfies(r -> assertThat(r.<String>getFieldAs("label")).isNull());

        tEnv.createTemporaryView("probe", tEnv.fromValues(org.apache.flink.table.api.DataTypes.ROW(
                org.apache.flink.table.api.DataTypes.FIELD("text", org.apache.flink.table.api.DataTypes.STRING())), Row.of("x")));
        tEnv.executeSql(model("bad", checkpoints, "api", "label STRING, score DOUBLE"));
        assertThatThrownBy(() -> tEnv.executeSql("SELECT * FROM ML_PREDICT(TABLE probe, MODEL bad, DESCRIPTOR(text))"))
                .isInstanceOf(ValidationException.class)
                .hasStackTraceContaining("OUTPUT column 'score' is not one the streamdistill provider writes");
        tEnv.executeSql("CREATE MODEL pinned INPUT (text STRING) OUTPUT (label STRING) WITH ('provider' = 'streamdistill',"
                + " 'student' = 'api', 'bootstrap.servers' = 'x:1', 'schema.registry.url' = 'http://x', 'version' = 'newest')");
        assertThatThrownBy(() -> tEnv.executeSql("SELECT * FROM ML_PREDICT(TABLE probe, MODEL pinned, DESCRIPTOR(text))"))
                .isInstanceOf(ValidationException.class)
                .hasStackTraceContaining("'version' must be 'latest' or a version number >= 1, got 'newest'");
    }

    /**
     * {@code 'cascade' = 'teacher-calls=0.5'}: each task loads the teacher and calibrates the version on the soft targets
     * the trainer held out; the rows the student is least sure of get the teacher's answer (its class, said in
     * answered_by), the others the student's. Bad cascade options fail at planning.
     */
    @Test
    void aCascadeSendsTheRowsTheStudentIsLeastSureOfToTheTeacher() throws Exception {
        String checkpoints = SharedLocalStack.newTopic("sql-cascade-checkpoints", 1);
        String softTargets = SharedLocalStack.newTopic("sql-cascade-soft", 1);
        StudentVersions versions = new StudentVersions(dir, StudentTokenizers.load("all-MiniLM-L6-v2", 128));
        StudentCheckpoint v1 = versions.bag("casc", 1, 71);
        StudentVersions.publish(registry, checkpoints, v1);
        Map<String, List<String>> examples = new java.util.LinkedHashMap<>();
        examples.put("animal", List.of("a small furry animal", "a wild cat that hunts at night"));
        examples.put("food", List.of("hot vegetable soup", "a sweet baked dessert"));
        examples.put("plant", List.of("a tall tree with broad leaves", "a flowering shrub"));
        examples.put("person", List.of("a woman who teaches children", "a man who repairs shoes"));
        assertThat(List.copyOf(examples.keySet())).isEqualTo(StudentVersions.CLASSES);
        Path descriptorFile = dir.resolve("teacher.json");
        io.streamdistill.teacher.model.TeacherDescriptor descriptor = io.streamdistill.teacher.model.BuiltInTeachers.ALL_MINILM_L6_V2
                .descriptor().withHead(new io.streamdistill.teacher.model.TeacherDescriptor.PrototypeSpec(examples, 20f), "sql-cascade-teacher");
        descriptor.write(descriptorFile);
        List<String> nouns = List.of("dog", "horse", "bread", "cheese", "oak", "fern", "baker", "nurse", "sparrow", "apple");
        List<String> heldOut = new ArrayList<>();
        List<String> heldOutIds = new ArrayList<>();
        for (int i = 0; heldOut.size() < 60; i++) {
            String id = "h-" + i;
            if (io.streamdistill.student.train.HoldoutSlice.contains(id, 5)) {
                heldOutIds.add(id);
                heldOut.add("a " + nouns.get(i % nouns.size()) + " seen on day " + i);
            }
        }
        List<String> probes = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            probes.add("the " + nouns.get((i * 3) % nouns.size()) + " of story " + i);
        }
        Map<String, String> teacherClass = new TreeMap<>();
        try (io.streamdistill.teacher.model.Teacher teacher = io.streamdistill.teacher.model.Teacher.load(descriptor, 1,
                io.streamdistill.teacher.model.Teacher.Device.CPU, 0)) {
            produceHeldOut(softTargets, teacher, heldOutIds, heldOut);
            float[][] logits = teacher.infer(teacher.tokenizer().encode(probes));
            for (int i = 0; i < probes.size(); i++) {
                teacherClass.put(probes.get(i), StudentVersions.CLASSES.get(io.streamdistill.student.loss.DistillationLoss.argmax(logits[i])));
            }
        }
        Map<String, String> studentClass = new TreeMap<>();
        try (io.streamdistill.student.onnx.StudentRunner runner = io.streamdistill.student.onnx.StudentRunner.load(
                Path.of(URI.create(v1.getArtifact().getUri())), v1.getArtifact().getSha256(), StudentTokenizers.load("all-MiniLM-L6-v2", 128), 1)) {
            float[][] p = runner.score(probes);
            for (int i = 0; i < probes.size(); i++) {
                studentClass.put(probes.get(i), StudentVersions.CLASSES.get(io.streamdistill.student.loss.DistillationLoss.argmax(p[i])));
            }
        }

        StreamTableEnvironment tEnv = tableEnvironment();
        tEnv.createTemporaryView("probe", tEnv.fromValues(org.apache.flink.table.api.DataTypes.ROW(
                org.apache.flink.table.api.DataTypes.FIELD("text", org.apache.flink.table.api.DataTypes.STRING())),
                probes.stream().map(t -> Row.of(t)).toArray()));
        String cascadeOptions = ", 'cascade.teacher' = '" + descriptorFile + "', 'cascade.topic' = '" + softTargets + "')";
        tEnv.executeSql(model("c", checkpoints, "casc", "label STRING, answered_by STRING, version BIGINT").replaceFirst("\\)$",
                ", 'cascade' = 'teacher-calls=0.5'" + cascadeOptions));
        List<Row> rows = new ArrayList<>();
        try (CloseableIterator<Row> it = tEnv.executeSql("SELECT text, label, answered_by, version FROM ML_PREDICT(TABLE probe, MODEL c,"
                + " DESCRIPTOR(text))").collect()) {
            it.forEachRemaining(rows::add);
        }
        assertThat(rows).hasSize(probes.size());
        List<Row> byTeacher = rows.stream().filter(r -> "teacher".equals(r.getField("answered_by"))).toList();
        assertThat(byTeacher.size()).as("about half of the rows go to the teacher (calibrated at 0.5 on the held-out texts)")
                .isBetween(6, 24);
        assertThat(rows).allSatisfy(r -> {
            String text = r.getFieldAs("text");
            String by = r.getFieldAs("answered_by");
            assertThat(by).isIn("student", "teacher");
            assertThat(r.<String>getFieldAs("label")).as("%s answered by the %s", text, by)
                    .isEqualTo(by.equals("teacher") ? teacherClass.get(text) : studentClass.get(text));
            assertThat(r.<Long>getFieldAs("version")).isEqualTo(1L);
        });

        tEnv.executeSql(model("half", checkpoints, "casc", "label STRING").replaceFirst("\\)$", ", 'cascade' = 'half'" + cascadeOptions));
        assertThatThrownBy(() -> tEnv.executeSql("SELECT * FROM ML_PREDICT(TABLE probe, MODEL half, DESCRIPTOR(text))"))
                .isInstanceOf(ValidationException.class).hasStackTraceContaining("'cascade' must be teacher-calls=SHARE or agreement=SHARE");
        tEnv.executeSql(model("noteacher", checkpoints, "casc", "label STRING").replaceFirst("\\)$", ", 'cascade' = 'agreement=0.9')"));
        assertThatThrownBy(() -> tEnv.executeSql("SELECT * FROM ML_PREDICT(TABLE probe, MODEL noteacher, DESCRIPTOR(text))"))
                .isInstanceOf(ValidationException.class).hasStackTraceContaining("'cascade' needs 'cascade.teacher'");
    }

    /** Soft targets the trainer would have held out (by id), labelled by {@code teacher}. */
    private static void produceHeldOut(String topic, io.streamdistill.teacher.model.Teacher teacher, List<String> ids, List<String> texts)
            throws Exception {
        float[][] logits = teacher.infer(teacher.tokenizer().encode(texts));
        io.streamdistill.schemas.serde.AvroSerializer<io.streamdistill.records.SoftTarget> serializer =
                new io.streamdistill.schemas.serde.AvroSerializer<>(registry);
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers()),
                new org.apache.kafka.common.serialization.ByteArraySerializer(), new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            for (int i = 0; i < ids.size(); i++) {
                List<Float> l = new ArrayList<>();
                for (float f : logits[i]) {
                    l.add(f);
                }
                io.streamdistill.records.SoftTarget st = io.streamdistill.records.SoftTarget.newBuilder().setId(ids.get(i))
                        .setText(texts.get(i)).setLabel(null).setEventTime(java.time.Instant.now()).setTeacher(teacher.ref())
                        .setTask(io.streamdistill.records.Task.CLASSIFICATION).setClassLogits(l).setEmbedding(null).setLanguageModel(null)
                        .setInputTokens(8).setTruncated(false).setTeacherLatencyMicros(1000).setProducedAt(java.time.Instant.now()).build();
                p.send(new ProducerRecord<>(topic, ids.get(i).getBytes(StandardCharsets.UTF_8), serializer.serialize(topic, st))).get();
            }
        }
    }

    private static StreamTableEnvironment tableEnvironment() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        return StreamTableEnvironment.create(env);
    }

    private static String textsTable(String topic) {
        return "CREATE TABLE texts (id STRING, text STRING) WITH ('connector' = 'kafka', 'topic' = '" + topic + "',"
                + " 'properties.bootstrap.servers' = '" + SharedLocalStack.get().bootstrapServers() + "',"
                + " 'properties.group.id' = 'ml-predict-test', 'scan.startup.mode' = 'earliest-offset',"
                + " 'key.format' = 'raw', 'key.fields' = 'id', 'value.format' = 'raw', 'value.fields-include' = 'EXCEPT_KEY')";
    }

    private static String model(String name, String checkpoints, String student, String outputs) {
        return "CREATE MODEL " + name + " INPUT (text STRING) OUTPUT (" + outputs + ") WITH ('provider' = 'streamdistill',"
                + " 'student' = '" + student + "', 'bootstrap.servers' = '" + SharedLocalStack.get().bootstrapServers() + "',"
                + " 'schema.registry.url' = '" + SharedLocalStack.get().registryUrl() + "', 'checkpoints.topic' = '" + checkpoints + "')";
    }

    private static void produce(String topic, int from, int to) throws Exception {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers()),
                new StringSerializer(), new StringSerializer())) {
            for (int i = from; i < to; i++) {
                p.send(new ProducerRecord<>(topic, "t-" + i, "text " + i + ": a small furry animal that eats plants")).get();
            }
        }
    }

    /** The next {@code n} rows, each recorded by id with the version that answered it. */
    private static List<Row> take(CloseableIterator<Row> rows, int n, Map<String, List<Long>> answers) {
        List<Row> out = new ArrayList<>();
        while (out.size() < n && rows.hasNext()) {
            Row r = rows.next();
            answers.computeIfAbsent(r.<String>getFieldAs("id"), k -> new ArrayList<>()).add(r.<Long>getFieldAs("version"));
            out.add(r);
        }
        return out;
    }
}
