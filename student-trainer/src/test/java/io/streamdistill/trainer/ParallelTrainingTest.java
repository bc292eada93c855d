package io.streamdistill.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.SourceRange;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.student.train.HoldoutSlice;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train.parallelism=2} on a MiniCluster with the embedded broker and the real registry: start, produce, verify. */
class ParallelTrainingTest {

    @BeforeAll
    static void start() {
        TrainerJobTest.start();
    }

    /**
     * Two training subtasks averaging through the sync topic, with a task failure injected after a
     * completed checkpoint: a published version ends up trained on every record not held out, once
     * (its record count and lineage are the topic's), versions strictly increase, none twice.
     */
    @Test
    void twoTrainingSubtasksTrainEveryRecordOnceThroughAFailure(@TempDir Path dir) throws Exception {
        throughAFailure(dir, "parallel", Map.of());
    }

    /** The same for a transformer student, whose encoder weights move whole in every sync round. */
    @Test
    void aTransformerStudentAtTwoSubtasksTrainsEveryRecordOnceThroughAFailure(@TempDir Path dir) throws Exception {
        throughAFailure(dir, "parallel-transformer", Map.of("student.arch", "transformer", "student.transformer.layers", "1",
                "student.transformer.width", "16", "student.transformer.heads", "2", "student.transformer.ffn", "32",
                "training.learningRate", "0.003"));
    }

    private static void throughAFailure(Path dir, String name, Map<String, String> student) throws Exception {
        String in = SharedLocalStack.newTopic(name + "-soft", 2);
        String out = SharedLocalStack.newTopic(name + "-checkpoints", 1);
        int half = 2000;
        int n = 2 * half;
        TrainerJobTest.produceSoftTargets(in, half, 21);
        long trainable = 0;
        for (int i = 0; i < half; i++) {
            trainable += (HoldoutSlice.contains("st-21-" + i, 10) ? 0 : 1) + (HoldoutSlice.contains("st-22-" + i, 10) ? 0 : 1);
        }
        Map<String, String> s = new HashMap<>(TrainerJobTest.settings(in, out, dir.resolve("artifacts"),
                Map.of("train.parallelism", "2", "bounded.end", "none", "export.every.seconds", "2")));
        s.putAll(student);
        TrainerConfig config = TrainerConfig.of(s);
        StudentTrainerJob.createSyncTopic(config);
        FailOnce.FAILED.set(false);
        FailOnce.COMPLETED_CHECKPOINTS.set(0);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2,
                StudentTrainerJob.configure(config, dir.resolve("flink").toUri().toString()));
        StudentTrainerJob.enableCheckpointing(env, config);
        StudentTrainerJob.build(env, config, f -> f.map(new FailOnce(1500)).name("fail-once").setParallelism(1));
        JobClient job = env.executeAsync("parallel-trainer-test");
        List<StudentCheckpoint> published = List.of();
        try {
            // The second half arrives after a checkpoint has completed, so the failure falls in it.
            while (FailOnce.COMPLETED_CHECKPOINTS.get() == 0) {
                Thread.sleep(200);
            }
            TrainerJobTest.produceSoftTargets(in, half, 22);
            long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
            while (System.nanoTime() < deadline) {
                published = TrainerJobTest.checkpoints(out, Duration.ofSeconds(2));
                if (!published.isEmpty() && published.get(published.size() - 1).getRecordsSeen() >= trainable) {
                    break;
                }
            }
        } finally {
            job.cancel().get();
        }
        assertThat(FailOnce.FAILED).as("the failure was injected").isTrue();
        assertThat(published).isNotEmpty();
        assertThat(published.stream().map(StudentCheckpoint::getVersion).toList()).isSorted().doesNotHaveDuplicates();
        StudentCheckpoint last = published.get(published.size() - 1);
        assertThat(last.getRecordsSeen()).as("every record not held out, trained once").isEqualTo(trainable);
        TrainerJobTest.assertTrainedOnExactly(last, TrainerJobTest.trainingIds(half, 21, 10), TrainerJobTest.trainingIds(half, 22, 10));
        assertThat(last.getMetrics()).containsEntry("trainer_parallelism", 2.0);
        assertThat(last.getMetrics().get("holdout_agreement")).isGreaterThan(0.5);
        assertThat(last.getSources()).extracting(SourceRange::getPartition).containsExactlyInAnyOrder(0, 1);
        long spanned = last.getSources().stream().mapToLong(r -> r.getLastOffset() - r.getFirstOffset() + 1).sum();
        assertThat(spanned).as("the lineage spans the topic, less held-out records at its edges").isBetween(n - 20L, (long) n);
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir.resolve("artifacts").resolve("synthetic.sync"))) {
            assertThat(files.count()).as("merged rounds every subtask adopted are deleted").isLessThan(6);
        }

        // The same records without the failure: a move adopted twice (or one dropped) would leave the model elsewhere.
        String cleanOut = SharedLocalStack.newTopic(name + "-clean-checkpoints", 1);
        Map<String, String> clean = new HashMap<>(TrainerJobTest.settings(in, cleanOut, dir.resolve("clean-artifacts"),
                Map.of("bounded.end", "none", "export.every.seconds", "2", "group.id", "trainer-clean-" + in,
                        "transactional.id.prefix", "trainer-test-" + cleanOut)));
        clean.putAll(student);
        JobClient uninterrupted = start(clean, dir.resolve("clean"), 2);
        StudentCheckpoint cleanLast;
        try {
            List<StudentCheckpoint> cleanVersions = TrainerJobTest.awaitRecordsSeen(cleanOut, trainable, Duration.ofSeconds(150));
            cleanLast = cleanVersions.get(cleanVersions.size() - 1);
        } finally {
            uninterrupted.cancel().get();
        }
        assertThat(cleanLast.getTrainedIds()).as("the same ids as the run through the failure").isEqualTo(last.getTrainedIds());
        System.out.printf("%s failure: agreement %.4f against %.4f uninterrupted%n", name, last.getMetrics().get("holdout_agreement"),
                cleanLast.getMetrics().get("holdout_agreement"));
        assertThat(last.getMetrics().get("holdout_agreement")).as("the model matches an uninterrupted run's")
                .isCloseTo(cleanLast.getMetrics().get("holdout_agreement"), org.assertj.core.data.Offset.offset(0.03));
    }

    /** Starts the job at {@code parallelism} training subtasks on a MiniCluster of its own. */
    private static JobClient start(Map<String, String> settings, Path dir, int parallelism) throws Exception {
        Map<String, String> s = new HashMap<>(settings);
        s.put("train.parallelism", String.valueOf(parallelism));
        TrainerConfig config = TrainerConfig.of(s);
        StudentTrainerJob.createSyncTopic(config);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism,
                StudentTrainerJob.configure(config, dir.resolve("flink").toUri().toString()));
        StudentTrainerJob.enableCheckpointing(env, config);
        StudentTrainerJob.build(env, config);
        return env.executeAsync("rescale-test-" + parallelism);
    }

    private static String stop(JobClient job, Path dir) throws Exception {
        return job.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(),
                org.apache.flink.core.execution.SavepointFormatType.CANONICAL).get();
    }

    /**
     * 1 → 2 → 1 training subtasks through savepoints. Phase 1 brings the holdout records; later
     * phases hold none out, so every version is scored on the same holdout window and agreement is
     * comparable across the rescales. Each phase starts from the model the last one left: versions
     * and steps go on increasing, agreement does not drop, every record is trained once.
     */
    @Test
    void rescalingOneToTwoToOneThroughSavepointsContinuesTheModel(@TempDir Path dir) throws Exception {
        rescaleThrough(dir, "rescale", 1, 2, 1);
    }

    /**
     * 2 → 3 → 2: between two parallelisms above 1, subtask 0 folds the old subtasks' states (which
     * Flink spread over the new subtasks) into one student and hands it to the others.
     */
    @Test
    void rescalingTwoToThreeToTwoThroughSavepointsContinuesTheModel(@TempDir Path dir) throws Exception {
        rescaleThrough(dir, "rescale-nm", 2, 3, 2);
    }

    /** Three phases of 1,500, 1,500 and 1,000 records at the three parallelisms, stopped with a savepoint between. */
    private static void rescaleThrough(Path dir, String name, int... parallelisms) throws Exception {
        String in = SharedLocalStack.newTopic(name + "-soft", 2);
        String out = SharedLocalStack.newTopic(name + "-checkpoints", 1);
        Map<String, String> base = new HashMap<>(TrainerJobTest.settings(in, out, dir.resolve("artifacts"),
                Map.of("bounded.end", "none", "export.every.seconds", "2", "export.every.records", "100000",
                        "gate.max.regression", "1")));
        Map<String, String> noHoldout = new HashMap<>(base);
        noHoldout.put("holdout.percent", "0");
        int[] sizes = {1500, 1500, 1000};
        long first = TrainerJobTest.trainingRecords(sizes[0], 31, 10);
        long[] trainedBy = {first, first + sizes[1], first + sizes[1] + sizes[2]};

        TrainerJobTest.produceSoftTargets(in, sizes[0], 31);
        JobClient job = start(base, dir, parallelisms[0]);
        List<StudentCheckpoint> phase1 = TrainerJobTest.awaitRecordsSeen(out, trainedBy[0], Duration.ofSeconds(120));
        String savepoint = stop(job, dir);

        noHoldout.put("restore.from", savepoint);
        job = start(noHoldout, dir, parallelisms[1]);
        TrainerJobTest.produceSoftTargets(in, sizes[1], 32);
        List<StudentCheckpoint> upTo2 = TrainerJobTest.awaitRecordsSeen(out, trainedBy[1], Duration.ofSeconds(150));
        savepoint = stop(job, dir);
        List<StudentCheckpoint> phase2 = upTo2.subList(phase1.size(), upTo2.size());

        noHoldout.put("restore.from", savepoint);
        job = start(noHoldout, dir, parallelisms[2]);
        Path sync = dir.resolve("artifacts").resolve("synthetic.sync");
        List<StudentCheckpoint> all;
        try {
            TrainerJobTest.produceSoftTargets(in, sizes[2], 33);
            all = TrainerJobTest.awaitRecordsSeen(out, trainedBy[2], Duration.ofSeconds(150));
            // The handover files (and, at N=1, the whole sync directory) go once a checkpoint of the new job completes.
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!handedOver(sync, parallelisms[2]) && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
        } finally {
            job.cancel().get();
        }
        List<StudentCheckpoint> phase3 = all.subList(upTo2.size(), all.size());

        assertThat(phase2).isNotEmpty();
        assertThat(phase3).isNotEmpty();
        assertThat(all.stream().map(StudentCheckpoint::getVersion).toList()).isSorted().doesNotHaveDuplicates();
        assertThat(all.stream().map(StudentCheckpoint::getStep).toList()).as("each phase continues the model").isSorted();
        assertThat(phase2.get(phase2.size() - 1).getMetrics()).containsEntry("trainer_parallelism", (double) parallelisms[1]);
        StudentCheckpoint last = all.get(all.size() - 1);
        assertThat(last.getMetrics()).containsEntry("trainer_parallelism", (double) parallelisms[2]);
        assertThat(last.getRecordsSeen()).as("every record not held out, trained once across both rescales").isEqualTo(trainedBy[2]);
        TrainerJobTest.assertTrainedOnExactly(last, TrainerJobTest.trainingIds(sizes[0], 31, 10),
                TrainerJobTest.trainingIds(sizes[1], 32, 0), TrainerJobTest.trainingIds(sizes[2], 33, 0));
        long spanned = last.getSources().stream().mapToLong(r -> r.getLastOffset() - r.getFirstOffset() + 1).sum();
        long n = sizes[0] + sizes[1] + sizes[2];
        assertThat(spanned).as("the lineage spans the topic, less held-out records at its edges").isBetween(n - 20L, n);
        double before1 = phase1.get(phase1.size() - 1).getMetrics().get("holdout_agreement");
        double after1 = phase2.get(0).getMetrics().get("holdout_agreement");
        double before2 = phase2.get(phase2.size() - 1).getMetrics().get("holdout_agreement");
        double after2 = phase3.get(0).getMetrics().get("holdout_agreement");
        System.out.printf("rescale agreement: %d -> %.4f | %d: %.4f .. %.4f | %d: %.4f .. %.4f%n", parallelisms[0], before1,
                parallelisms[1], after1, before2, parallelisms[2], after2, last.getMetrics().get("holdout_agreement"));
        assertThat(after1).as("agreement after the first rescale").isGreaterThanOrEqualTo(before1 - 0.01);
        assertThat(after2).as("agreement after the second rescale").isGreaterThanOrEqualTo(before2 - 0.01);
        assertThat(handedOver(sync, parallelisms[2])).as("handover files gone: " + sync).isTrue();
    }

    /** At N=1 the sync directory is gone; above 1 no handover or rescale file is left in it. */
    private static boolean handedOver(Path sync, int parallelism) throws java.io.IOException {
        if (parallelism == 1 || !java.nio.file.Files.exists(sync)) {
            return !java.nio.file.Files.exists(sync);
        }
        try (var files = java.nio.file.Files.list(sync)) {
            return files.map(f -> f.getFileName().toString()).noneMatch(f -> f.startsWith("handoff-") || f.startsWith("rescale-"));
        }
    }
}
