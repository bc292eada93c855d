package io.streamdistill.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.Sampling;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.records.Task;
import io.streamdistill.records.TeacherRef;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.bench.SyntheticText;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.MiniLmFiles;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Rng;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer job on a local MiniCluster, the embedded broker and the real registry: start, produce, verify. */
class TrainerJobTest {
    private static final List<String> CLASSES = List.of("a", "b", "c", "d");
    private static SchemaRegistryClient registry;
    private static TextTokenizer tokenizer;

    @BeforeAll
    static void start() {
        SharedLocalStack.get();
        registry = new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build());
        tokenizer = TextTokenizer.load(MiniLmFiles.tokenizer(), "all-MiniLM-L6-v2", 128);
    }

    /** A fixed synthetic teacher: random token vectors, mean-pooled, a random linear map to 4 class logits. */
    static final class SyntheticClassifier {
        private final float[] vectors;
        private final float[] head;
        static final int DIM = 8;

        SyntheticClassifier(int vocab, long seed) {
            Rng rng = new Rng(seed);
            vectors = new float[vocab * DIM];
            for (int i = 0; i < vectors.length; i++) {
                vectors[i] = (float) rng.nextGaussian();
            }
            head = new float[CLASSES.size() * DIM];
            for (int i = 0; i < head.length; i++) {
                head[i] = (float) rng.nextGaussian();
            }
        }

        float[] pooled(int[] ids) {
            float[] pooled = new float[DIM];
            for (int id : ids) {
                for (int j = 0; j < DIM; j++) {
                    pooled[j] += vectors[id * DIM + j] / ids.length;
                }
            }
            return pooled;
        }

        /** Its head in the teacher's space: logits = 4 head . pooled. */
        io.streamdistill.student.init.WarmStart.TeacherHead head() {
            float[][] w = new float[CLASSES.size()][DIM];
            for (int k = 0; k < w.length; k++) {
                for (int j = 0; j < DIM; j++) {
                    w[k][j] = 4f * head[k * DIM + j];
                }
            }
            return new io.streamdistill.student.init.WarmStart.TeacherHead(CLASSES, w, new float[CLASSES.size()], false);
        }

        float[] logits(int[] ids) {
            float[] pooled = pooled(ids);
            float[] out = new float[CLASSES.size()];
            for (int k = 0; k < out.length; k++) {
                for (int j = 0; j < DIM; j++) {
                    out[k] += 4f * head[k * DIM + j] * pooled[j];
                }
            }
            return out;
        }
    }

    static void produceSoftTargets(String topic, int n, long seed) throws Exception {
        produceSoftTargets(topic, n, seed, i -> null);
    }

    /** Like {@link #produceSoftTargets(String, int, long)}, each record carrying {@code sampling.apply(i)}. */
    static void produceSoftTargets(String topic, int n, long seed, java.util.function.IntFunction<Sampling> sampling) throws Exception {
        produceSoftTargets(topic, n, seed, sampling, false);
    }

    /** Like the others; with {@code pooled} each record also carries the synthetic teacher's pooled vector (feature KD). */
    static void produceSoftTargets(String topic, int n, long seed, java.util.function.IntFunction<Sampling> sampling, boolean pooled)
            throws Exception {
        SyntheticClassifier teacher = new SyntheticClassifier(tokenizer.vocabSize(), 77);
        List<String> texts = SyntheticText.sentences(MiniLmFiles.tokenizer(), n, 12, seed, 600);
        int[][] ids = tokenizer.encode(texts);
        AvroSerializer<SoftTarget> serializer = new AvroSerializer<>(registry);
        TeacherRef ref = TeacherRef.newBuilder().setModelId("synthetic").setSha256("00".repeat(32)).setTokenizer(tokenizer.id()).build();
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < n; i++) {
                List<Float> logits = new ArrayList<>();
                for (float f : teacher.logits(ids[i])) {
                    logits.add(f);
                }
                SoftTarget st = SoftTarget.newBuilder().setId("st-" + seed + "-" + i).setText(texts.get(i)).setLabel(null)
                        .setEventTime(Instant.now()).setTeacher(ref).setTask(Task.CLASSIFICATION).setClassLogits(logits)
                        .setEmbedding(null).setLanguageModel(null).setInputTokens(ids[i].length).setTruncated(false)
                        .setPooledEmbedding(pooled ? floats(teacher.pooled(ids[i])) : null)
                        .setTeacherLatencyMicros(1000).setProducedAt(Instant.now()).setSampling(sampling.apply(i)).build();
                p.send(new ProducerRecord<>(topic, st.getId().getBytes(StandardCharsets.UTF_8), serializer.serialize(topic, st)));
            }
            p.flush();
        }
    }

    static Map<String, String> settings(String in, String out, Path artifacts, Map<String, String> extra) {
        Map<String, String> s = new HashMap<>(Map.of(
                "bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                "schema.registry.url", SharedLocalStack.get().registryUrl(),
                "input.topic", in, "output.topic", out,
                "group.id", "trainer-" + in,
                "student.name", "synthetic", "student.classes", String.join(",", CLASSES),
                "student.embedding.dim", "32", "artifact.dir", artifacts.toUri().toString()));
        s.put("starting.offsets", "earliest");
        s.put("bounded.end", "latest");
        s.put("holdout.percent", "10");
        s.put("export.every.records", "1000");
        s.put("checkpoint.interval.ms", "2000");
        s.put("training.learningRate", "0.02");
        s.put("training.warmupSteps", "20");
        s.put("transactional.id.prefix", "trainer-test-" + out);
        s.putAll(extra);
        return s;
    }

    static void runBounded(TrainerConfig config, Path flinkCheckpoints) throws Exception {
        runBounded(config, flinkCheckpoints, s -> s);
    }

    static void runBounded(TrainerConfig config, Path flinkCheckpoints,
                           java.util.function.UnaryOperator<org.apache.flink.streaming.api.datastream.DataStream<TargetRecord>> tap)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1,
                StudentTrainerJob.configure(config, flinkCheckpoints.toUri().toString()));
        StudentTrainerJob.enableCheckpointing(env, config);
        StudentTrainerJob.build(env, config, tap);
        env.execute("trainer-test");
    }

    static List<StudentCheckpoint> checkpoints(String topic, Duration wait) {
        AvroDeserializer<StudentCheckpoint> d = new AvroDeserializer<>(registry, StudentCheckpoint.class);
        List<StudentCheckpoint> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "verify-" + System.nanoTime(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + wait.toNanos();
            while (System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r -> out.add(d.deserialize(topic, r.value())));
            }
        }
        return out;
    }

    /** On a stream from a fixed synthetic teacher, published versions improve and pass 90 % holdout agreement. */
    @Test
    void publishedCheckpointsImproveAndPass90PercentAgreement(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("trainer-soft", 2);
        String out = SharedLocalStack.newTopic("trainer-checkpoints", 1);
        produceSoftTargets(in, 8000, 1);
        TrainerConfig config = TrainerConfig.of(settings(in, out, dir.resolve("artifacts"), Map.of()));

        runBounded(config, dir.resolve("flink"));

        List<StudentCheckpoint> published = checkpoints(out, Duration.ofSeconds(5));
        assertThat(published).hasSizeGreaterThanOrEqualTo(3);
        List<Long> versions = published.stream().map(StudentCheckpoint::getVersion).toList();
        assertThat(versions).isSorted().doesNotHaveDuplicates().startsWith(1L);
        double first = published.get(0).getMetrics().get("holdout_agreement");
        StudentCheckpoint last = published.get(published.size() - 1);
        double lastAgreement = last.getMetrics().get("holdout_agreement");
        assertThat(lastAgreement).as("holdout agreement of the last version").isGreaterThanOrEqualTo(0.9).isGreaterThan(first);
        assertThat(last.getRecordsSeen()).isBetween(6500L, 8000L); // ~10 % held out
        assertThat(last.getSources()).hasSize(2).allSatisfy(s -> assertThat(s.getTopic()).isEqualTo(in));
        assertThat(last.getClassNames()).containsExactlyElementsOf(CLASSES);
        assertThat(last.getTeacher().getModelId()).isEqualTo("synthetic");
        assertThat(last.getConfigHash()).hasSize(64);

        // The artifact is where the record says, with the sha256 it says, and runs in ONNX Runtime.
        Path file = Path.of(URI.create(last.getArtifact().getUri()));
        byte[] bytes = Files.readAllBytes(file);
        assertThat(Hashing.sha256(bytes)).isEqualTo(last.getArtifact().getSha256());
        assertThat((long) bytes.length).isEqualTo(last.getArtifact().getBytes());
        assertThat(file.toString()).endsWith("synthetic/" + last.getVersion() + "/model.onnx");
        try (StudentRunner runner = StudentRunner.load(file, last.getArtifact().getSha256(), tokenizer, 1)) {
            float[][] probabilities = runner.score(List.of("some words here", "other words there"));
            assertThat(probabilities).hasNumberOfRows(2);
            assertThat(probabilities[0]).hasSize(4);
            assertThat(runner.metadata()).containsEntry("streamdistill.checkpoint_version", String.valueOf(last.getVersion()));
        }
    }

    /** What the tap saw of each record: id, held out, random share, inclusion probability. */
    static final java.util.Queue<Object[]> SEEN = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /**
     * Records the teacher service's adaptive sampling chose: every third from the random share
     * (EXPLORATION, reached the teacher with probability 0.2), the others because the student was
     * unsure. All are trained on, each once, with importance weights on; only the random share is
     * ever held out, so the published holdout figure is measured on it alone.
     */
    @Test
    void adaptivelySampledRecordsAreTrainedOnceWithTheirWeightsAndOnlyTheRandomShareIsHeldOut(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("sampled-soft", 1);
        String out = SharedLocalStack.newTopic("sampled-checkpoints", 1);
        int n = 3000;
        produceSoftTargets(in, n, 4, i -> Sampling.newBuilder().setReason(i % 3 == 0 ? "EXPLORATION" : "UNSURE")
                .setExplorationProbability(0.2).setInclusionProbability(i % 3 == 0 ? 0.2 : 1.0).setStudentVersion(7L).build());
        TrainerConfig config = TrainerConfig.of(settings(in, out, dir.resolve("artifacts"), Map.of("importance.weights", "true")));
        SEEN.clear();

        runBounded(config, dir.resolve("flink"), s -> s.map(r -> {
            SEEN.add(new Object[] {r.id, r.holdout, r.randomShare, r.inclusionProbability});
            return r;
        }).returns(TargetRecord.class));

        assertThat(SEEN).hasSize(n);
        long heldOut = SEEN.stream().filter(r -> (boolean) r[1]).count();
        assertThat(SEEN).allSatisfy(r -> {
            boolean exploration = Integer.parseInt(((String) r[0]).substring(((String) r[0]).lastIndexOf('-') + 1)) % 3 == 0;
            assertThat(r[2]).as("random share of %s", r[0]).isEqualTo(exploration);
            assertThat((double) r[3]).as("inclusion probability of %s", r[0]).isEqualTo(exploration ? 0.2 : 1.0);
            if (!exploration) {
                assertThat(r[1]).as("an unsure record is never held out: %s", r[0]).isEqualTo(false);
            }
        });
        assertThat(heldOut).as("10 %% of the 1,000 random-share records").isBetween(60L, 140L);
        List<StudentCheckpoint> published = checkpoints(out, Duration.ofSeconds(5));
        assertThat(published).isNotEmpty();
        StudentCheckpoint last = published.get(published.size() - 1);
        assertThat(last.getRecordsSeen()).as("every record not held out, trained once").isEqualTo(n - heldOut);
        assertThat(last.getMetrics().get("holdout_records")).isEqualTo((double) heldOut);
        assertThat(last.getMetrics().get("holdout_agreement")).isGreaterThan(0.5);

        // The same records without weights train another student (a bounded run on one partition is otherwise bit-identical).
        String unweightedOut = SharedLocalStack.newTopic("unweighted-checkpoints", 1);
        runBounded(TrainerConfig.of(settings(in, unweightedOut, dir.resolve("unweighted"), Map.of())), dir.resolve("flink-unweighted"));
        List<StudentCheckpoint> unweighted = checkpoints(unweightedOut, Duration.ofSeconds(5));
        StudentCheckpoint lastUnweighted = unweighted.get(unweighted.size() - 1);
        assertThat(lastUnweighted.getRecordsSeen()).isEqualTo(last.getRecordsSeen());
        assertThat(lastUnweighted.getVersion()).as("same version: its ONNX metadata is the same").isEqualTo(last.getVersion());
        assertThat(lastUnweighted.getArtifact().getSha256()).as("weights change what is learned")
                .isNotEqualTo(last.getArtifact().getSha256());
    }

    /**
     * A task failure after a completed Flink checkpoint: the job restores its trainer state and goes
     * on; versions stay strictly increasing with none published twice, and the final student matches
     * an uninterrupted run on the same records (same records trained on; holdout agreement within 0.03).
     */
    @Test
    void aFailureAfterACheckpointRestoresStateAndKeepsVersionsIncreasing(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("fail-soft", 1);
        produceSoftTargets(in, 6000, 3);
        String cleanOut = SharedLocalStack.newTopic("fail-clean-checkpoints", 1);
        runBounded(TrainerConfig.of(settings(in, cleanOut, dir.resolve("clean"), Map.of())), dir.resolve("flink-clean"));
        List<StudentCheckpoint> clean = checkpoints(cleanOut, Duration.ofSeconds(3));

        String out = SharedLocalStack.newTopic("fail-checkpoints", 1);
        FailOnce.FAILED.set(false);
        FailOnce.COMPLETED_CHECKPOINTS.set(0);
        runBounded(TrainerConfig.of(settings(in, out, dir.resolve("failed"), Map.of("checkpoint.interval.ms", "300"))),
                dir.resolve("flink-failed"), s -> s.map(new FailOnce(1500)).name("fail-once").setParallelism(1));
        assertThat(FailOnce.FAILED.get()).as("the failure was injected").isTrue();

        List<StudentCheckpoint> recovered = checkpoints(out, Duration.ofSeconds(3));
        List<Long> versions = recovered.stream().map(StudentCheckpoint::getVersion).toList();
        assertThat(versions).isNotEmpty().isSorted().doesNotHaveDuplicates();
        List<Long> steps = recovered.stream().map(StudentCheckpoint::getStep).toList();
        assertThat(steps).as("the model continued from its state, not from scratch").isSorted();
        StudentCheckpoint lastClean = clean.get(clean.size() - 1);
        StudentCheckpoint lastRecovered = recovered.get(recovered.size() - 1);
        assertThat(lastRecovered.getRecordsSeen()).isEqualTo(lastClean.getRecordsSeen());
        assertTrainedOnExactly(lastClean, trainingIds(6000, 3, 10));
        assertTrainedOnExactly(lastRecovered, trainingIds(6000, 3, 10));
        assertThat(lastRecovered.getMetrics().get("holdout_agreement"))
                .isCloseTo(lastClean.getMetrics().get("holdout_agreement"), org.assertj.core.data.Offset.offset(0.03));
    }

    /**
     * Records on the soft-target topic that are no soft target (garbage bytes, a tombstone) are dead-lettered by the
     * trainer with their coordinates and bytes, once each, and every readable record around them is trained on.
     */
    @Test
    void unreadableSoftTargetsAreDeadLetteredOnceAndTheRestTrained(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("unreadable-soft", 1);
        String out = SharedLocalStack.newTopic("unreadable-checkpoints", 1);
        String deadLetters = SharedLocalStack.newTopic("unreadable-dead-letters", 1);
        produceSoftTargets(in, 300, 21);
        byte[] garbage = "a foreign writer's bytes".getBytes(StandardCharsets.UTF_8);
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(in, "foreign".getBytes(StandardCharsets.UTF_8), garbage)).get();
            p.send(new ProducerRecord<>(in, "gone".getBytes(StandardCharsets.UTF_8), null)).get();
        }
        produceSoftTargets(in, 300, 22);

        runBounded(TrainerConfig.of(settings(in, out, dir.resolve("artifacts"), Map.of("dead.letter.topic", deadLetters,
                "export.every.records", "200"))), dir.resolve("flink"));

        AvroDeserializer<io.streamdistill.records.DeadLetter> d = new AvroDeserializer<>(registry, io.streamdistill.records.DeadLetter.class);
        List<io.streamdistill.records.DeadLetter> letters = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "verify-" + System.nanoTime(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(deadLetters));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r -> letters.add(d.deserialize(deadLetters, r.value())));
            }
        }
        assertThat(letters).extracting(l -> l.getTopic() + "@" + l.getOffset() + " " + l.getReason() + " " + l.getService())
                .containsExactly(in + "@300 WRONG_MAGIC_BYTE student-trainer", in + "@301 NULL_VALUE student-trainer");
        assertThat(letters.get(0).getOriginalValue().array()).isEqualTo(garbage);

        List<StudentCheckpoint> published = checkpoints(out, Duration.ofSeconds(3));
        StudentCheckpoint last = published.get(published.size() - 1);
        assertThat(last.getRecordsSeen()).as("every readable record trained on, once")
                .isEqualTo(trainingRecords(300, 21, 10) + trainingRecords(300, 22, 10));
        assertTrainedOnExactly(last, trainingIds(300, 21, 10), trainingIds(300, 22, 10));
    }

    /**
     * student.arch=transformer through the same job: it trains on every record once, publishes versions whose
     * files ONNX Runtime runs as it runs the bag's, and learns the synthetic teacher's rule.
     */
    @Test
    void aTransformerStudentTrainsInTheJobAndItsFilesRunInOnnxRuntime(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("transformer-soft", 1);
        String out = SharedLocalStack.newTopic("transformer-checkpoints", 1);
        produceSoftTargets(in, 2000, 41);
        runBounded(TrainerConfig.of(settings(in, out, dir.resolve("artifacts"), Map.of("student.arch", "transformer",
                "student.transformer.layers", "1", "student.transformer.width", "16", "student.transformer.heads", "2",
                "student.transformer.ffn", "32", "export.every.records", "600", "gate.max.regression", "1",
                "training.learningRate", "0.003"))), dir.resolve("flink"));

        List<StudentCheckpoint> published = checkpoints(out, Duration.ofSeconds(3));
        assertThat(published).hasSizeGreaterThanOrEqualTo(2);
        assertThat(published.stream().map(StudentCheckpoint::getVersion).toList()).isSorted().doesNotHaveDuplicates();
        StudentCheckpoint first = published.get(0);
        StudentCheckpoint last = published.get(published.size() - 1);
        assertThat(last.getArchitecture()).startsWith("transformer 1x16");
        assertTrainedOnExactly(last, trainingIds(2000, 41, 10));
        System.out.printf("transformer in the job: holdout agreement %.3f at version %d, %.3f at version %d%n",
                first.getMetrics().get("holdout_agreement"), first.getVersion(), last.getMetrics().get("holdout_agreement"), last.getVersion());
        assertThat(last.getMetrics().get("holdout_agreement")).as("it learns the teacher's rule (4 classes)").isGreaterThan(0.7);
        try (StudentRunner runner = StudentRunner.load(Path.of(URI.create(last.getArtifact().getUri())), last.getArtifact().getSha256(),
                tokenizer, 1)) {
            float[][] p = runner.score(List.of("a sentence for the student", "another one"));
            assertThat(p).hasNumberOfRows(2);
            for (float[] row : p) {
                double sum = 0;
                for (float x : row) {
                    sum += x;
                }
                assertThat(row).hasSize(CLASSES.size());
                assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
            }
        }
    }

    /** Starts the job unbounded on a MiniCluster; the caller cancels it (retained checkpoints stay). */
    static org.apache.flink.core.execution.JobClient startUnbounded(TrainerConfig config, Path flinkCheckpoints) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1,
                StudentTrainerJob.configure(config, flinkCheckpoints.toUri().toString()));
        StudentTrainerJob.enableCheckpointing(env, config);
        StudentTrainerJob.build(env, config);
        return env.executeAsync("trainer-restart-test");
    }

    /** Polls the checkpoint topic until a published record has seen {@code records} records; returns all published. */
    static List<StudentCheckpoint> awaitRecordsSeen(String topic, long records, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<StudentCheckpoint> published = List.of();
        while (System.nanoTime() < deadline) {
            published = checkpoints(topic, Duration.ofSeconds(1));
            if (!published.isEmpty() && published.get(published.size() - 1).getRecordsSeen() >= records) {
                return published;
            }
        }
        throw new AssertionError("no published checkpoint reached " + records + " records in " + timeout + "; last: "
                + (published.isEmpty() ? "none" : published.get(published.size() - 1).getRecordsSeen()));
    }

    /** The ids of {@link #produceSoftTargets}'s records that are not held out, in order. */
    static List<String> trainingIds(int n, long seed, int holdoutPercent) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = "st-" + seed + "-" + i;
            if (!io.streamdistill.student.train.HoldoutSlice.contains(id, holdoutPercent)) {
                ids.add(id);
            }
        }
        return ids;
    }

    /** The version was trained on exactly {@code ids}, each once: compared by id digest, not by a count alone. */
    @SafeVarargs
    static void assertTrainedOnExactly(StudentCheckpoint version, List<String>... ids) {
        List<String> all = new ArrayList<>();
        for (List<String> part : ids) {
            all.addAll(part);
        }
        assertThat(version.getTrainedIds()).as("version %d carries the ids it was trained on", version.getVersion()).isNotNull();
        assertThat(version.getTrainedIds().getCount()).as("records trained on").isEqualTo(all.size());
        assertThat(version.getTrainedIds().getDigest()).as("the ids trained on: every one once, none missing, none twice")
                .isEqualTo(TrainedIdsDigest.of(all));
    }

    static long trainingRecords(int n, long seed, int holdoutPercent) {
        long count = 0;
        for (int i = 0; i < n; i++) {
            if (!io.streamdistill.student.train.HoldoutSlice.contains("st-" + seed + "-" + i, holdoutPercent)) {
                count++;
            }
        }
        return count;
    }

    /**
     * The job cancelled and started again as a new job (restore.from=latest): it resumes from the
     * retained checkpoint, so the model continues from its state (steps and records seen carry on),
     * versions keep increasing with none published twice, and every record is trained on exactly once.
     */
    @Test
    void aFullJobRestartResumesFromTheLatestRetainedCheckpoint(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("restart-soft", 1);
        String out = SharedLocalStack.newTopic("restart-checkpoints", 1);
        produceSoftTargets(in, 2000, 5);
        Map<String, String> unbounded = Map.of("bounded.end", "none", "checkpoint.interval.ms", "500",
                "export.every.records", "400", "export.every.seconds", "1");
        Path flink = dir.resolve("flink");

        org.apache.flink.core.execution.JobClient first = startUnbounded(
                TrainerConfig.of(settings(in, out, dir.resolve("artifacts"), unbounded)), flink);
        List<StudentCheckpoint> beforeRestart;
        try {
            beforeRestart = awaitRecordsSeen(out, trainingRecords(2000, 5, 10), Duration.ofSeconds(120));
        } finally {
            first.cancel().get();
        }
        assertThat(RetainedCheckpoints.latest(flink.toUri().toString())).as("a checkpoint retained after cancel").isPresent();

        produceSoftTargets(in, 1500, 6);
        org.apache.flink.core.execution.JobClient second = startUnbounded(
                TrainerConfig.of(settings(in, out, dir.resolve("artifacts"), unbounded)), flink);
        List<StudentCheckpoint> all;
        try {
            all = awaitRecordsSeen(out, trainingRecords(2000, 5, 10) + trainingRecords(1500, 6, 10), Duration.ofSeconds(120));
        } finally {
            second.cancel().get();
        }

        assertThat(all.stream().map(StudentCheckpoint::getVersion).toList()).isSorted().doesNotHaveDuplicates();
        StudentCheckpoint lastBefore = beforeRestart.get(beforeRestart.size() - 1);
        List<StudentCheckpoint> afterRestart = all.subList(beforeRestart.size(), all.size());
        assertThat(afterRestart).isNotEmpty();
        assertThat(afterRestart.get(0).getStep()).as("continues from the restored step").isGreaterThan(lastBefore.getStep());
        assertThat(afterRestart.get(afterRestart.size() - 1).getRecordsSeen())
                .as("every record trained exactly once across the restart")
                .isEqualTo(trainingRecords(2000, 5, 10) + trainingRecords(1500, 6, 10));
        assertTrainedOnExactly(afterRestart.get(afterRestart.size() - 1), trainingIds(2000, 5, 10), trainingIds(1500, 6, 10));
    }

    /** A gate nobody can pass publishes nothing (no record, no artifact) and says why in the log. */
    @Test
    void aGateThatRefusesPublishesNothing(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("gate-soft", 1);
        String out = SharedLocalStack.newTopic("gate-checkpoints", 1);
        produceSoftTargets(in, 1500, 2);
        Path artifacts = dir.resolve("artifacts");
        TrainerConfig config = TrainerConfig.of(settings(in, out, artifacts, Map.of(
                "gate.min.agreement", "0.9999", "export.every.records", "300")));

        try (LogCapture log = new LogCapture(TrainOperator.class)) {
            runBounded(config, dir.resolve("flink"));
            assertThat(log.messages).anySatisfy(m -> assertThat(m).contains("quality gate refused")
                    .contains("below gate.min.agreement=0.9999"));
        }

        assertThat(checkpoints(out, Duration.ofSeconds(3))).isEmpty();
        assertThat(Files.exists(artifacts.resolve("synthetic"))).isFalse();
    }

    /**
     * A student warm-started from a static table of the synthetic teacher (its token vectors through
     * the static distillation, its head composed with the map back) is published as version 1 before
     * it has trained on a record; that ONNX file is exactly the Java forward pass of the warm start,
     * and it already agrees with the teacher far above chance.
     */
    @Test
    void aWarmStartedStudentIsPublishedAtStartTrainedOnNothing(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("warm-soft", 1);
        String out = SharedLocalStack.newTopic("warm-checkpoints", 1);
        produceSoftTargets(in, 1200, 5);
        SyntheticClassifier teacher = new SyntheticClassifier(tokenizer.vocabSize(), 77);
        io.streamdistill.student.init.StaticDistiller.Encoder encoder = ids -> {
            float[][] o = new float[ids.length][];
            for (int b = 0; b < ids.length; b++) {
                o[b] = teacher.pooled(ids[b]);
            }
            return o;
        };
        TextTokenizer.Wrapping wrapping = tokenizer.wrapping();
        io.streamdistill.student.init.StaticTable table = io.streamdistill.student.init.StaticDistiller.distill(
                Map.of("teacher", "synthetic", "teacher_sha256", "00".repeat(32), "tokenizer", tokenizer.id()),
                tokenizer.vocabSize(), wrapping, tokenizer.specialIds(), encoder,
                new io.streamdistill.student.init.StaticDistiller.Settings(SyntheticClassifier.DIM, 256, Double.NaN, null),
                io.streamdistill.student.init.StaticDistiller.syntheticTexts(tokenizer.vocabulary(), wrapping, 512, 3),
                io.streamdistill.student.init.StaticDistiller.Progress.NONE);
        Path tableFile = dir.resolve("synthetic.sdstatic");
        table.write(tableFile);
        io.streamdistill.student.init.WarmStart.TeacherHead head = teacher.head();
        Path headFile = dir.resolve("head.json");
        head.write(headFile);
        TrainerConfig config = TrainerConfig.of(settings(in, out, dir.resolve("artifacts"), Map.of(
                "student.init", "static:" + tableFile, "student.init.head", headFile.toString(),
                "student.embedding.dim", String.valueOf(SyntheticClassifier.DIM))));

        runBounded(config, dir.resolve("flink"));

        List<StudentCheckpoint> published = checkpoints(out, Duration.ofSeconds(5));
        assertThat(published).hasSizeGreaterThanOrEqualTo(2);
        StudentCheckpoint first = published.get(0);
        assertThat(first.getVersion()).isEqualTo(1L);
        assertThat(first.getRecordsSeen()).isZero();
        assertThat(first.getStep()).isZero();
        assertThat(first.getTeacher().getModelId()).isEqualTo("synthetic");
        assertThat(published.get(1).getRecordsSeen()).isPositive();

        io.streamdistill.student.model.StudentConfig sc = config.studentConfig(tokenizer.vocabSize());
        io.streamdistill.student.model.Student java = io.streamdistill.student.init.WarmStart.student(sc, table, head,
                StudentInit.of(config).map());
        io.streamdistill.student.model.Student.Activations a = new io.streamdistill.student.model.Student.Activations(sc);
        List<String> texts = SyntheticText.sentences(MiniLmFiles.tokenizer(), 300, 12, 99, 600);
        int agree = 0;
        try (StudentRunner runner = StudentRunner.load(Path.of(URI.create(first.getArtifact().getUri())),
                first.getArtifact().getSha256(), tokenizer, 1)) {
            float[][] onnx = runner.score(texts);
            for (int i = 0; i < texts.size(); i++) {
                int[] ids = tokenizer.encode(texts.get(i));
                java.forward(ids, null, a);
                for (int k = 0; k < CLASSES.size(); k++) {
                    assertThat(onnx[i][k]).as("text %d class %d", i, k).isCloseTo(a.prediction[k], org.assertj.core.api.Assertions.within(1e-5f));
                }
                agree += io.streamdistill.student.loss.DistillationLoss.argmax(onnx[i])
                        == io.streamdistill.student.loss.DistillationLoss.argmax(teacher.logits(ids)) ? 1 : 0;
            }
        }
        assertThat(agree / (double) texts.size()).as("agreement of the untrained version with the teacher").isGreaterThan(0.6);
    }

    private static List<Float> floats(float[] v) {
        List<Float> out = new ArrayList<>();
        for (float f : v) {
            out.add(f);
        }
        return out;
    }

    /**
     * Feature distillation end to end: soft targets carry the teacher's pooled embedding, the trainer reads
     * it and trains with training.featureBeta; the job runs through and its students still learn the teacher.
     */
    @Test
    void softTargetsWithPooledEmbeddingsTrainWithFeatureDistillation(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("feature-soft", 1);
        String out = SharedLocalStack.newTopic("feature-checkpoints", 1);
        produceSoftTargets(in, 4000, 9, i -> null, true);
        TrainerConfig config = TrainerConfig.of(settings(in, out, dir.resolve("artifacts"), Map.of(
                "training.featureBeta", "1", "student.feature.dim", String.valueOf(SyntheticClassifier.DIM))));
        assertThat(config.studentConfig(tokenizer.vocabSize()).featureDim()).isEqualTo(SyntheticClassifier.DIM);

        runBounded(config, dir.resolve("flink"));

        List<StudentCheckpoint> published = checkpoints(out, Duration.ofSeconds(5));
        assertThat(published).isNotEmpty();
        StudentCheckpoint last = published.get(published.size() - 1);
        assertThat(last.getMetrics().get("holdout_agreement")).isGreaterThan(0.8);
        assertThat(last.getSettings()).containsEntry("training.featureBeta", "1");
        // The projection is training-only: the exported student has the usual inputs and outputs.
        try (StudentRunner runner = StudentRunner.load(Path.of(URI.create(last.getArtifact().getUri())), last.getArtifact().getSha256(),
                tokenizer, 1)) {
            assertThat(runner.score(List.of("some words"))[0]).hasSize(CLASSES.size());
        }
    }
}
