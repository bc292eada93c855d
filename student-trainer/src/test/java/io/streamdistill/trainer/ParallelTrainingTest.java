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
        String in = SharedLocalStack.newTopic("parallel-soft", 2);
        String out = SharedLocalStack.newTopic("parallel-checkpoints", 1);
        int half = 2000;
        int n = 2 * half;
        TrainerJobTest.produceSoftTargets(in, half, 21);
        long trainable = 0;
        for (int i = 0; i < half; i++) {
            trainable += (HoldoutSlice.contains("st-21-" + i, 10) ? 0 : 1) + (HoldoutSlice.contains("st-22-" + i, 10) ? 0 : 1);
        }
        Map<String, String> s = new HashMap<>(TrainerJobTest.settings(in, out, dir.resolve("artifacts"),
                Map.of("train.parallelism", "2", "bounded.end", "none", "export.every.seconds", "2")));
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
        assertThat(last.getMetrics()).containsEntry("trainer_parallelism", 2.0);
        assertThat(last.getMetrics().get("holdout_agreement")).isGreaterThan(0.5);
        assertThat(last.getSources()).extracting(SourceRange::getPartition).containsExactlyInAnyOrder(0, 1);
        long spanned = last.getSources().stream().mapToLong(r -> r.getLastOffset() - r.getFirstOffset() + 1).sum();
        assertThat(spanned).as("the lineage spans the topic, less held-out records at its edges").isBetween(n - 20L, (long) n);
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir.resolve("artifacts").resolve("synthetic.sync"))) {
            assertThat(files.count()).as("merged rounds every subtask adopted are deleted").isLessThan(6);
        }
    }
}
