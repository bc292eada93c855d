package io.streamdistill.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.records.SourceRange;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.train.BatchResult;
import io.streamdistill.student.train.Evaluation;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.StudentTrainer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The train operator's pieces, each on its own. */
class TrainerPiecesTest {

    @Test
    void lineageKeepsFirstAndLastOffsetPerPartitionAndTheIdsAndSurvivesItsState() throws Exception {
        Lineage a = new Lineage();
        a.add("t", 1, 7, "r7");
        a.add("t", 0, 5, "r5");
        a.add("t", 1, 3, "r3");
        a.add("t", 1, 9, "r9");
        Lineage b = new Lineage();
        b.add("t", 1, 12, "r12");
        b.add("u", 0, 2, "u2");
        a.addAll(b);
        assertThat(a.sources()).extracting(SourceRange::getTopic, SourceRange::getPartition, SourceRange::getFirstOffset,
                SourceRange::getLastOffset).containsExactly(
                org.assertj.core.groups.Tuple.tuple("t", 0, 5L, 5L),
                org.assertj.core.groups.Tuple.tuple("t", 1, 3L, 12L),
                org.assertj.core.groups.Tuple.tuple("u", 0, 2L, 2L));
        assertThat(a.trainedIds().getCount()).isEqualTo(6);
        assertThat(a.trainedIds().getDigest()).as("the same ids in any order")
                .isEqualTo(TrainedIdsDigest.of(List.of("u2", "r12", "r9", "r3", "r5", "r7")))
                .isNotEqualTo(TrainedIdsDigest.of(List.of("u2", "r12", "r9", "r3", "r5", "r5")))
                .isNotEqualTo(TrainedIdsDigest.of(List.of("u2", "r12", "r9", "r3", "r5")));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        a.write(new DataOutputStream(bytes));
        Lineage read = new Lineage();
        read.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertThat(read.sources()).isEqualTo(a.sources());
        assertThat(read.trainedIds()).isEqualTo(a.trainedIds());
        assertThat(new Lineage().isEmpty()).isTrue();

        // A state written before ids were kept (a positive range count, no ids) still loads; its ids are unknown.
        ByteArrayOutputStream old = new ByteArrayOutputStream();
        DataOutputStream o = new DataOutputStream(old);
        o.writeInt(1);
        o.writeUTF("t\u00000");
        o.writeLong(0);
        o.writeLong(41);
        o.writeUTF("what follows the lineage in a state");
        Lineage before = new Lineage();
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(old.toByteArray()));
        before.read(in);
        assertThat(in.readUTF()).isEqualTo("what follows the lineage in a state");
        assertThat(before.sources()).extracting(SourceRange::getLastOffset).containsExactly(41L);
        assertThat(before.trainedIds()).isNull();
        read.addAll(before);
        assertThat(read.trainedIds()).as("a history partly unknown has no digest").isNull();
    }

    @Test
    void freshnessReportsAgesOfTheRecordsSinceTheLastVersion() {
        Freshness f = new Freshness();
        Map<String, Double> none = new HashMap<>();
        f.report(10_000, none);
        assertThat(none).isEmpty();
        for (int i = 0; i < 2000; i++) { // past the first array's size
            f.arrived(10_000 - i);
        }
        Map<String, Double> m = new HashMap<>();
        f.report(10_000, m);
        assertThat(m).containsEntry("new_records", 2000.0).containsEntry("freshness_max_ms", 1999.0)
                .containsEntry("freshness_p50_ms", 999.0).containsEntry("freshness_p95_ms", 1899.0);
        f.published();
        Map<String, Double> after = new HashMap<>();
        f.report(20_000, after);
        assertThat(after).isEmpty();
    }

    @Test
    void progressMovesAsFarForABatchAsForItsRecordsOneByOne() {
        Progress single = new Progress();
        Progress batched = new Progress();
        single.scored(new Evaluation(2f, 0f, 1f, Float.NaN));
        batched.scored(new Evaluation(2f, 0f, 1f, Float.NaN));
        for (int i = 0; i < 32; i++) {
            single.scored(new Evaluation(1f, 1f, 0.5f, Float.NaN));
        }
        batched.trained(new BatchResult(1, 1f, 1f, 0.5f, 0f, 0f), 32);
        assertThat(batched.loss()).isCloseTo(single.loss(), Offset.offset(1e-9));
        assertThat(batched.agreement()).isCloseTo(single.agreement(), Offset.offset(1e-9));
        assertThat(batched.kl()).isCloseTo(single.kl(), Offset.offset(1e-9));
        assertThat(single.agreement()).isBetween(0.2, 0.3); // 1 - 0.99^32
    }

    @Test
    void cadenceIsDueByRecordsOrByTimeAndOnlyWithSomethingNew() {
        ExportCadence c = new ExportCadence(100, 60, 0);
        assertThat(c.due(120_000)).as("nothing trained").isFalse();
        c.trained(99);
        assertThat(c.due(1_000)).isFalse();
        assertThat(c.due(60_000)).as("by time").isTrue();
        c.trained(1);
        assertThat(c.due(1_000)).as("by records").isTrue();
        c.exported(1_000);
        assertThat(c.pending()).isFalse();
        c.restore(40);
        c.started(5_000);
        assertThat(c.trainedSince()).as("a restart keeps what was trained").isEqualTo(40);
        assertThat(c.due(64_999)).isFalse();
        assertThat(c.due(65_000)).isTrue();
    }

    @Test
    void publisherWritesTheArtifactAndRecordAndTheGateRemembersTheLastVersion(@TempDir Path dir) throws Exception {
        TrainerConfig config = TrainerConfig.of(Map.of("bootstrap.servers", "b:9092", "schema.registry.url", "http://r:8081",
                "student.classes", "a,b", "artifact.dir", dir.toUri().toString(), "gate.max.regression", "0.1"));
        StudentTrainer trainer = StudentTrainer.create(config.studentConfig(50), config.trainingConfig());
        Publisher publisher = new Publisher(config, "tok-1");
        publisher.continueAfterStore();
        Lineage lineage = new Lineage();
        lineage.add("soft", 0, 4, "id-4");
        Map<String, Double> metrics = new LinkedHashMap<>(Map.of("progressive_loss", 0.5, "unknown", Double.NaN));
        Publisher.Version v1 = publisher.publish(trainer, new HoldoutWindow.Score(0.9, 0.1, Double.NaN, 1000), 64, lineage, null,
                metrics);
        assertThat(v1.number()).isEqualTo(1);
        assertThat(Files.size(Path.of(v1.artifact()))).isPositive();
        StudentCheckpoint record = CheckpointRecords.decode(new OutRecord(new byte[0], v1.record()));
        assertThat(record.getVersion()).isEqualTo(1);
        assertThat(record.getRecordsSeen()).isEqualTo(64);
        assertThat(record.getSources()).hasSize(1);
        assertThat(record.getArtifact().getUri()).isEqualTo(v1.artifact().toString());
        assertThat(record.getMetrics()).containsEntry("holdout_agreement", 0.9).containsEntry("progressive_loss", 0.5)
                .doesNotContainKeys("unknown", "holdout_label_accuracy");
        assertThat(publisher.publish(trainer, new HoldoutWindow.Score(0.7, 0.1, Double.NaN, 1000), 64, lineage, null, Map.of()))
                .as("0.2 below version 1").isNull();
        assertThat(publisher.refusal()).contains("worse than version 1");

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        publisher.write(new DataOutputStream(bytes));
        Publisher restored = new Publisher(config, "tok-1");
        restored.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), 2);
        assertThat(restored.version()).isEqualTo(1);
        assertThat(restored.publish(trainer, new HoldoutWindow.Score(0.7, 0.1, Double.NaN, 1000), 64, lineage, null, Map.of()))
                .as("the gate remembers across a restore").isNull();
        Publisher fresh = new Publisher(config, "tok-1");
        fresh.continueAfterStore();
        assertThat(fresh.version()).as("without state, versions continue after the store's").isEqualTo(1);
    }

    /**
     * The finetune/trainer race: an idle trainer's state says version 1 while finetune published version 2 into the
     * same line. When input resumes, the trainer takes 3, and version 2's file stays byte for byte (it used to take 2
     * from its own state and delete the published file). An export the job made but never published (a failure before
     * its checkpoint) keeps its number too.
     */
    @Test
    void theTrainerNeverTakesAVersionAnotherWriterHoldsNorReplacesItsFile(@TempDir Path dir) throws Exception {
        TrainerConfig config = TrainerConfig.of(Map.of("bootstrap.servers", "b:9092", "schema.registry.url", "http://r:8081",
                "student.classes", "a,b", "artifact.dir", dir.toUri().toString(), "gate.max.regression", "1"));
        StudentTrainer trainer = StudentTrainer.create(config.studentConfig(50), config.trainingConfig());
        Publisher publisher = new Publisher(config, "tok-1");
        publisher.continueAfterStore();
        Lineage lineage = new Lineage();
        lineage.add("soft", 0, 4, "id-4");
        HoldoutWindow.Score score = new HoldoutWindow.Score(0.9, 0.1, Double.NaN, 1000);
        assertThat(publisher.publish(trainer, score, 64, lineage, null, Map.of()).number()).isEqualTo(1);

        ArtifactStore store = new ArtifactStore(dir.toUri().toString());
        long finetuned = store.claim("student", 2);
        byte[] published = "the fine-tuned student, published under its sha256".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.net.URI finetunedFile = store.write("student", finetuned, published);
        assertThat(finetuned).isEqualTo(2);

        Publisher.Version next = publisher.publish(trainer, score, 128, lineage, null, Map.of());
        assertThat(next.number()).as("above the version finetune holds").isEqualTo(3);
        assertThat(Files.readAllBytes(Path.of(finetunedFile))).as("a published file is never replaced").isEqualTo(published);
        assertThatThrownBy(() -> store.write("student", 3, published)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("never replaced");

        // Restored from a checkpoint taken at version 3, the job exports again: 4 was exported and never published.
        assertThat(store.claim("student", 4)).isEqualTo(4);
        assertThat(publisher.publish(trainer, score, 192, lineage, null, Map.of()).number()).isEqualTo(5);
    }

    /** Writers claiming at once from the same number each get a number of their own. */
    @Test
    void concurrentClaimsNeverShareANumber(@TempDir Path dir) throws Exception {
        ArtifactStore store = new ArtifactStore(dir.toUri().toString());
        int writers = 8;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(writers);
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<Long>> claims = new java.util.ArrayList<>();
        for (int i = 0; i < writers * 4; i++) {
            claims.add(pool.submit(() -> {
                start.await();
                return store.claim("line", 1);
            }));
        }
        start.countDown();
        java.util.Set<Long> numbers = new java.util.HashSet<>();
        for (java.util.concurrent.Future<Long> f : claims) {
            numbers.add(f.get());
        }
        pool.shutdown();
        assertThat(numbers).hasSize(writers * 4);
        assertThat(store.highestVersion("line")).isEqualTo(writers * 4);
    }

    @Test
    void holdoutWindowKeepsTheLatestAndScoresThemWithTheCurrentModel() throws Exception {
        StudentConfig config = StudentConfig.builder().task(io.streamdistill.student.model.Task.CLASSIFICATION).vocabSize(20).embeddingDim(4).classNames(List.of("a", "b")).seed(1).build();
        StudentTrainer trainer = StudentTrainer.create(config, io.streamdistill.student.train.TrainingConfig.builder().build());
        HoldoutWindow w = new HoldoutWindow(3);
        assertThat(w.score(trainer).count()).isZero();
        for (int i = 0; i < 5; i++) {
            w.add(new Example(new int[] {i, i + 1}, new float[] {i % 2 == 0 ? 3f : -3f, 0f}, i % 2));
        }
        assertThat(w.size()).isEqualTo(3);
        HoldoutWindow.Score score = w.score(trainer);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        w.write(new DataOutputStream(bytes));
        HoldoutWindow read = new HoldoutWindow(3);
        read.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertThat(read.score(trainer)).isEqualTo(score);
    }

    private static final io.streamdistill.student.model.StudentConfig SMALL = io.streamdistill.student.model.StudentConfig.builder()
            .task(io.streamdistill.student.model.Task.CLASSIFICATION).vocabSize(50).embeddingDim(4).bigramBuckets(16)
            .classNames(List.of("a", "b")).seed(3).build();

    private static List<Example> smallBatch(int from) {
        List<Example> b = new java.util.ArrayList<>();
        for (int i = from; i < from + 6; i++) {
            b.add(Example.unlabelled(new int[] {i % 50, (i * 7) % 50}, new float[] {i % 2 == 0 ? 2f : -2f, 0f}));
        }
        return b;
    }

    private static Lineage offsets(int partition, long first, long last) {
        Lineage l = new Lineage();
        l.add("t", partition, first, "t-" + partition + "-" + first);
        l.add("t", partition, last, "t-" + partition + "-" + last);
        return l;
    }

    /**
     * Two replicas' states folded into one (a restore at train.parallelism=1): the result is the model
     * the merger would have made, whichever replica had adopted more rounds, and holds every record once.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "8-bit moves: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void replicaStatesFoldIntoTheMergedModelTheirCheckpointStandsFor(boolean eightBit) throws Exception {
        io.streamdistill.student.train.TrainingConfig training = io.streamdistill.student.train.TrainingConfig.builder()
                .warmupSteps(0).build();
        io.streamdistill.student.sync.Replica[] replicas = {
                new io.streamdistill.student.sync.Replica(StudentTrainer.create(SMALL, training), eightBit),
                new io.streamdistill.student.sync.Replica(StudentTrainer.create(SMALL, training), eightBit)};
        io.streamdistill.student.model.Student merged = new io.streamdistill.student.model.Student(SMALL);
        ReplicaState[] states = {new ReplicaState(0, 2, 0), new ReplicaState(1, 2, 0)};
        for (long round = 1; round <= 3; round++) {
            List<io.streamdistill.student.sync.ModelDelta> moves = new java.util.ArrayList<>();
            for (int r = 0; r < 2; r++) {
                replicas[r].train(smallBatch((int) round * 10 + r * 3));
                io.streamdistill.student.sync.ModelDelta move = replicas[r].take();
                moves.add(move);
                states[r].pending.put(round, new ReplicaState.Pending("run", move, offsets(r, round * 100, round * 100 + 5), 6));
            }
            io.streamdistill.student.sync.ModelDelta mean = io.streamdistill.student.sync.ModelDelta.mean(moves);
            mean.applyTo(merged);
            // Round 1 is adopted by both, round 2 by replica 1 only, round 3 by none: the checkpoint after round 3.
            for (int r = 0; r < 2; r++) {
                if (round == 1 || (round == 2 && r == 1)) {
                    replicas[r].adopt(mean, states[r].pending.remove(round).delta());
                    states[r].adoptedThrough = round;
                    states[r].merged = offsets(0, 100, 105);
                    states[r].merged.addAll(offsets(1, 100, 105));
                    states[r].mergedRecords = 12;
                    if (round == 2) {
                        states[r].merged.addAll(offsets(0, 200, 205));
                        states[r].merged.addAll(offsets(1, 200, 205));
                        states[r].mergedRecords = 24;
                    }
                }
            }
        }
        List<ReplicaState.Read> read = new java.util.ArrayList<>();
        for (ReplicaState st : states) {
            read.add(ReplicaState.read(st.toBytes(new byte[] {(byte) st.subtask})));
        }
        assertThat(ReplicaState.rank(states[1].toBytes(new byte[0]))).isEqualTo(2);
        StudentTrainer ofReplica1 = StudentTrainer.fromBytes(replicas[1].trainer().toBytes());
        ReplicaState.Consolidated c = ReplicaState.consolidate(read, 1, ofReplica1);
        float max = 0;
        float[][] want = merged.parameters();
        float[][] got = c.trainer().syncArrays();
        for (int i = 0; i < want.length; i++) {
            for (int j = 0; j < want[i].length; j++) {
                max = Math.max(max, Math.abs(want[i][j] - got[i][j]));
            }
        }
        // At 8 bits the subtask's model also holds the rounding error it has not sent yet (error feedback).
        assertThat(max).as("the folded model is the merged one").isLessThan(eightBit ? 2e-4f : 1e-5f);
        assertThat(c.records()).isEqualTo(36);
        assertThat(c.rounds()).isEqualTo(1);
        assertThat(c.exporterTail()).containsExactly((byte) 0);
        assertThat(c.lineage().sources()).extracting(SourceRange::getPartition, SourceRange::getFirstOffset, SourceRange::getLastOffset)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0, 100L, 305L), org.assertj.core.groups.Tuple.tuple(1, 100L, 305L));
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> ReplicaState.consolidate(read.subList(0, 1), 0, ofReplica1)))
                .hasMessageContaining("needs all of them");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> ReplicaState.consolidate(read, 0, ofReplica1)))
                .hasMessageContaining("adopted the most rounds");
    }
}
