package io.streamdistill.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.Artifact;
import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.records.Task;
import io.streamdistill.records.TeacherRef;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.HoldoutSlice;
import io.streamdistill.student.train.Rng;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The monitor's topology on Kafka Streams' test driver, with the real schema registry and a real ONNX student. */
class MonitorTopologyTest {
    static final List<String> CLASSES = List.of("animal", "food", "plant", "person");
    static final Instant T0 = Instant.parse("2026-11-28T10:00:00Z");
    private TopologyTestDriver driver;
    private TestInputTopic<String, SoftTarget> soft;
    private TestInputTopic<String, DeadLetter> dead;
    private TestInputTopic<String, StudentCheckpoint> checkpoints;
    private MonitorQueries queries;
    @TempDir
    Path dir;

    static MonitorConfig config(Path stateDir) {
        return MonitorConfig.of(Map.of("bootstrap.servers", "unused:9092", "schema.registry.url", SharedLocalStack.get().registryUrl(),
                "window.seconds", "10", "reference.records", "100", "holdout.percent", "20", "state.dir", stateDir.toString()));
    }

    @BeforeEach
    void start() {
        MonitorConfig config = config(dir.resolve("state"));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "monitor-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        p.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("streams").toString());
        driver = new TopologyTestDriver(MonitorTopology.build(config), p, T0);
        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build());
        soft = driver.createInputTopic(config.string("soft.targets.topic"), new StringSerializer(), new AvroSerializer<>(registry));
        dead = driver.createInputTopic(config.string("dead.letters.topic"), new StringSerializer(), new AvroSerializer<>(registry));
        checkpoints = driver.createInputTopic(config.string("checkpoints.topic"), new StringSerializer(), new AvroSerializer<>(registry));
        queries = new MonitorQueries(new MonitorQueries.Stores() {
            @Override
            public org.apache.kafka.streams.state.ReadOnlyWindowStore<String, TrafficStats> traffic() {
                return driver.getWindowStore(MonitorTopology.TRAFFIC);
            }

            @Override
            public org.apache.kafka.streams.state.ReadOnlyWindowStore<String, Long> deadLetters() {
                return driver.getWindowStore(MonitorTopology.DEAD_LETTERS);
            }

            @Override
            public org.apache.kafka.streams.state.ReadOnlyKeyValueStore<String, TrafficStats> reference() {
                return driver.getKeyValueStore(MonitorTopology.REFERENCE);
            }

            @Override
            public org.apache.kafka.streams.state.ReadOnlyKeyValueStore<String, ShadowStats> shadow() {
                return driver.getKeyValueStore(MonitorTopology.SHADOW);
            }

            @Override
            public org.apache.kafka.streams.state.ReadOnlyKeyValueStore<String, ?> checkpoints() {
                return driver.getKeyValueStore(MonitorTopology.CHECKPOINTS);
            }
        }, Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    static SoftTarget softTarget(String id, String text, int predicted, long latencyMicros) {
        List<Float> logits = new ArrayList<>();
        for (int k = 0; k < CLASSES.size(); k++) {
            logits.add(k == predicted ? 3f : 0f);
        }
        return SoftTarget.newBuilder().setId(id).setText(text).setLabel(null).setEventTime(T0)
                .setTeacher(TeacherRef.newBuilder().setModelId("t").setSha256("00").setTokenizer("tok").build())
                .setTask(Task.CLASSIFICATION).setClassLogits(logits).setEmbedding(null).setLanguageModel(null)
                .setInputTokens(5).setTruncated(false).setTeacherLatencyMicros(latencyMicros).setProducedAt(T0).build();
    }

    /** Windows count records, give latency quantiles, and drift is ~0 on the reference's mix and high once the mix shifts. */
    @Test
    void windowsCountTrafficMeasureLatencyAndDrift() {
        // Window 1 (the reference): classes 0 and 1 evenly, latency 1 ms for 98 records and 100 ms for 2.
        for (int i = 0; i < 100; i++) {
            soft.pipeInput("k" + i, softTarget("w1-" + i, "text " + i, i % 2, i < 98 ? 1000 : 100_000), T0.plusMillis(i * 50L));
        }
        // Window 2: the same mix; window 3: everything class 3.
        for (int i = 0; i < 50; i++) {
            soft.pipeInput("k", softTarget("w2-" + i, "text", i % 2, 2000), T0.plusSeconds(10).plusMillis(i * 100L));
        }
        for (int i = 0; i < 50; i++) {
            soft.pipeInput("k", softTarget("w3-" + i, "text", 3, 2000), T0.plusSeconds(20).plusMillis(i * 100L));
        }
        // Within the grace period a late record still counts in its window; after it, it is dropped.
        soft.pipeInput("k", softTarget("late", "text", 0, 2000), T0.plusSeconds(19));
        soft.pipeInput("k", softTarget("w4", "text", 0, 2000), T0.plusSeconds(45));
        soft.pipeInput("k", softTarget("too-late", "text", 0, 2000), T0.plusSeconds(19));
        dead.pipeInput("d1", deadLetter("INVALID_UTF8"), T0.plusSeconds(1));
        dead.pipeInput("d2", deadLetter("INVALID_UTF8"), T0.plusSeconds(2));
        dead.pipeInput("d3", deadLetter("EMPTY_TEXT"), T0.plusSeconds(12));

        List<Map<String, Object>> windows = queries.traffic(T0.plusSeconds(40), 10);
        assertThat(windows).hasSize(4);
        assertThat(windows.get(1).get("records")).as("50 on time + 1 late within grace; the later one dropped").isEqualTo(51L);
        assertThat(windows.get(0).get("records")).isEqualTo(100L);
        assertThat((Double) windows.get(0).get("records_per_second")).isEqualTo(10.0);
        assertThat((Double) windows.get(0).get("teacher_latency_p50_ms")).isCloseTo(1.0, within(0.2));
        assertThat((Double) windows.get(0).get("teacher_latency_p99_ms")).isCloseTo(100.0, within(20.0));
        assertThat((Double) windows.get(1).get("drift")).isLessThan(0.01);
        assertThat((Double) windows.get(2).get("drift")).isGreaterThan(0.5);
        assertThat(queries.deadLettersByReason()).containsEntry("INVALID_UTF8", 2L).containsEntry("EMPTY_TEXT", 1L);
        Map<String, Object> summary = queries.summary(T0.plusSeconds(40));
        assertThat(summary.get("dead_letters")).isEqualTo(3L);
        assertThat(summary.get("soft_targets_last_hour")).isEqualTo(202L);
    }

    /**
     * A published version is announced at once, then scored on the holdout slice only; its agreement
     * and KL equal what the same ONNX file gives on those records; a tampered artifact is refused.
     */
    @Test
    void shadowEvaluationScoresEachNewVersionOnTheHoldoutSlice() throws Exception {
        Path model = dir.resolve("student/1/model.onnx");
        Files.createDirectories(model.getParent());
        TextTokenizer tokenizer = StudentTokenizers.load("all-MiniLM-L6-v2", 128);
        byte[] bytes = OnnxExporter.export(randomStudent(tokenizer.vocabSize()).student(), new OnnxExporter.Metadata(tokenizer.id(), 1));
        Files.write(model, bytes);
        checkpoints.pipeInput("student", checkpoint(1, model, Hashing.sha256(bytes)), T0);
        driver.advanceWallClockTime(Duration.ofSeconds(3));
        assertThat(queries.shadow()).singleElement().satisfies(s -> {
            assertThat(s.get("version")).isEqualTo(1L);
            assertThat(s.get("shadow_records")).isEqualTo(0L);
            assertThat(s.get("refused")).isNull();
        });

        List<SoftTarget> holdout = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            SoftTarget st = softTarget("s-" + i, "a sentence about thing number " + i, i % 4, 1000);
            soft.pipeInput("k", st, T0.plusMillis(i));
            if (HoldoutSlice.contains(st.getId(), 20)) {
                holdout.add(st);
            }
        }
        double agreement = 0;
        double kl = 0;
        try (StudentRunner runner = StudentRunner.load(model, Hashing.sha256(bytes), tokenizer, 1)) {
            for (SoftTarget st : holdout) {
                float[] p = runner.score(List.of(st.getText()))[0];
                float[] teacher = new float[4];
                float[] logP = new float[4];
                for (int k = 0; k < 4; k++) {
                    teacher[k] = st.getClassLogits().get(k);
                    logP[k] = (float) Math.log(Math.max(p[k], 1e-12f));
                }
                agreement += DistillationLoss.argmax(p) == DistillationLoss.argmax(teacher) ? 1 : 0;
                kl += DistillationLoss.klDivergence(logP, teacher, 1f);
            }
        }
        Map<String, Object> v1 = queries.shadow().get(0);
        assertThat(holdout).hasSizeBetween(30, 90);
        assertThat(v1.get("shadow_records")).isEqualTo((long) holdout.size());
        assertThat((Double) v1.get("shadow_agreement")).isCloseTo(agreement / holdout.size(), within(1e-4));
        assertThat((Double) v1.get("shadow_kl")).isCloseTo(kl / holdout.size(), within(1e-3));
        assertThat(v1.get("checkpoint_holdout_agreement")).isEqualTo(0.5);
        assertThat(v1.get("trainer_parallelism")).isEqualTo(2.0);
        assertThat(v1.get("sync_bytes_total")).isEqualTo(123456.0);

        // Version 2's file was altered after publication: refused, never scored.
        Path tampered = dir.resolve("student/2/model.onnx");
        Files.createDirectories(tampered.getParent());
        byte[] altered = bytes.clone();
        altered[altered.length - 1] ^= 1;
        Files.write(tampered, altered);
        checkpoints.pipeInput("student", checkpoint(2, tampered, Hashing.sha256(bytes)), T0.plusSeconds(1));
        driver.advanceWallClockTime(Duration.ofSeconds(3));
        soft.pipeInput("k", softTarget("after", "text", 0, 1000), T0.plusSeconds(2));
        Map<String, Object> v2 = queries.shadow().get(1);
        assertThat(v2.get("version")).isEqualTo(2L);
        assertThat((String) v2.get("refused")).contains("sha256");
        assertThat(v2.get("shadow_records")).isEqualTo(0L);
    }

    static StudentTrainer randomStudent(int vocab) {
        StudentConfig c = StudentConfig.builder().task(io.streamdistill.student.model.Task.CLASSIFICATION).vocabSize(vocab)
                .embeddingDim(8).classNames(CLASSES).seed(3).build();
        StudentTrainer trainer = StudentTrainer.create(c, TrainingConfig.defaults());
        Rng rng = new Rng(9);
        for (float[] p : trainer.student().parameters()) {
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) (rng.nextGaussian() * 0.7);
            }
        }
        return trainer;
    }

    static StudentCheckpoint checkpoint(long version, Path file, String sha256) throws Exception {
        return StudentCheckpoint.newBuilder().setStudent("student").setVersion(version).setCreatedAt(T0).setStep(version * 10)
                .setRecordsSeen(version * 100).setTask(Task.CLASSIFICATION).setArchitecture("test").setParameters(1)
                .setClassNames(CLASSES).setSources(List.of()).setMetrics(Map.of("holdout_agreement", 0.5, "progressive_loss", 0.7,
                        "trainer_parallelism", 2.0, "sync_bytes_total", 123456.0))
                .setArtifact(Artifact.newBuilder().setUri(file.toUri().toString()).setSha256(sha256).setBytes(Files.size(file))
                        .setFormat("onnx").build())
                .setTeacher(TeacherRef.newBuilder().setModelId("t").setSha256("00").setTokenizer("tok").build())
                .setConfigHash("00").build();
    }

    static DeadLetter deadLetter(String reason) {
        return DeadLetter.newBuilder().setId("x").setTopic("distill.text").setPartition(0).setOffset(0).setStage("deserialize")
                .setReason(reason).setMessage("m").setService("teacher").setFailedAt(T0).build();
    }
}
