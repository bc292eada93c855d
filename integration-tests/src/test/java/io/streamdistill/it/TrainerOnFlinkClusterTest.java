package io.streamdistill.it;

import static io.streamdistill.it.ClusterTraining.last;
import static io.streamdistill.it.ClusterTraining.trainingRecords;
import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.trainer.RetainedCheckpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's job on a Flink session cluster of separate JVMs (one JobManager, two TaskManagers),
 * shipped as user code the way a job jar is: its own jars and the dependencies Flink does not
 * provide, while the JNI libraries (the tokenizer, ONNX Runtime) sit in the cluster's lib/ and are
 * resolved parent first. One cluster for the class: starting it costs ~20 s on 2 cores. The
 * recovery time is measured by the cluster benchmark, not asserted here.
 */
class TrainerOnFlinkClusterTest {
    /** Shorter than the default 10 s: a version is visible only after the checkpoint that follows it. */
    private static final long CHECKPOINT_MS = 2000;
    @TempDir
    static Path dir;
    private static ClusterTraining training;

    @BeforeAll
    static void startCluster() {
        training = ClusterTraining.start(dir, 2, SharedStack.get().bootstrapServers(), SharedStack.get().registryUrl());
    }

    @AfterAll
    static void stopCluster() {
        if (training != null) {
            training.cluster.close();
        }
    }

    /** Each test starts on two TaskManagers, whatever an earlier one (failed midway) left behind. */
    @BeforeEach
    void twoTaskManagers() {
        while (training.cluster.aliveTaskManagers() < 2) {
            training.cluster.startTaskManager();
        }
        training.cluster.awaitTaskManagers(2);
    }

    /**
     * A TaskManager SIGKILLed mid-stream: the job restarts from its latest checkpoint on the other
     * TaskManager, and a replacement registers. Every record is trained once (the last version has
     * seen exactly the training records produced), versions strictly increase with none published
     * twice under read_committed, and the model continues (steps increase).
     */
    @Test
    void aTaskManagerKilledMidStreamRecoversFromTheLatestCheckpointAndTrainsEveryRecordOnce() throws Exception {
        String in = SharedStack.newTopic("cluster-soft", 1);
        String out = SharedStack.newTopic("cluster-checkpoints", 1);
        training.produce(in, 0, 1500);
        JobClient job = training.submit(in, out, "tm-kill", "none", CHECKPOINT_MS);
        try {
            List<StudentCheckpoint> first = training.awaitRecordsSeen(out, trainingRecords(0, 1500), Duration.ofSeconds(120));
            assertThat(first).as("the job trains and publishes on the cluster").isNotEmpty();

            Thread producer = training.produceInBackground(in, 1500, 3000, 4);
            Thread.sleep(4000);
            int victim = training.cluster.taskManagerRunning(job.getJobID().toString());
            assertThat(victim).as("a TaskManager runs the job").isGreaterThanOrEqualTo(0);
            long killedAt = System.nanoTime();
            training.cluster.killTaskManager(victim);
            assertThat(training.cluster.taskManagerAlive(victim)).as("TaskManager %d was SIGKILLed", victim).isFalse();
            // Read after the kill: what the dead TaskManager committed is visible now, and nothing newer can be yet.
            long lastVersion = last(training.checkpoints(out)).getVersion();

            StudentCheckpoint next = training.awaitVersionAfter(out, lastVersion, Duration.ofSeconds(90));
            System.out.printf("TaskManager %d SIGKILLed: version %d published %.1f s later (last before the kill: %d)%n", victim,
                    next.getVersion(), (System.nanoTime() - killedAt) / 1e9, lastVersion);
            int survivor = -1;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (survivor < 0 && System.nanoTime() < deadline) {
                survivor = training.cluster.taskManagerRunning(job.getJobID().toString());
                Thread.sleep(200);
            }
            assertThat(survivor).as("the job runs again, on a TaskManager that is not the one killed").isGreaterThanOrEqualTo(0)
                    .isNotEqualTo(victim);

            training.cluster.startTaskManager();
            training.cluster.awaitTaskManagers(2);
            producer.join();
            List<StudentCheckpoint> all = training.awaitRecordsSeen(out, trainingRecords(0, 4500), Duration.ofSeconds(120));
            assertExactlyOnce(all, 0, 4500);
            System.out.println("RSS per process: " + training.rssReport());
            String report = training.cluster.jobReport();
            System.out.println(report);
            assertThat(report).as("what a failed wait would print").contains("job 'cluster tm-kill' " + job.getJobID() + ": RUNNING")
                    .contains("taskmanager-" + victim + " not alive");
        } finally {
            ClusterTraining.cancelIfRunning(job);
        }
    }

    /**
     * The JobManager SIGKILLed and started again, without an HA service: the job is submitted again
     * and resumes from the checkpoint it retained in the shared directory (restore.from=latest), so
     * the model continues and every record is still trained once. The TaskManagers survive the
     * JobManager, so the new job's tasks load the tokenizer in a JVM where an earlier job's class
     * loader already had: no TaskManager log says "already loaded in another classloader".
     */
    @Test
    void aJobManagerKilledAndRestartedResumesTheResubmittedJobFromItsRetainedCheckpoint() throws Exception {
        String in = SharedStack.newTopic("cluster-jm-soft", 1);
        String out = SharedStack.newTopic("cluster-jm-checkpoints", 1);
        training.produce(in, 0, 1500);
        JobClient first = training.submit(in, out, "jm-kill", "none", CHECKPOINT_MS);
        List<StudentCheckpoint> before = training.awaitRecordsSeen(out, trainingRecords(0, 1500), Duration.ofSeconds(120));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (RetainedCheckpoints.latest(training.checkpointDir("jm-kill")).isEmpty()) {
            assertThat(System.nanoTime()).as("a completed checkpoint of job %s within 60 s", first.getJobID()).isLessThan(deadline);
            Thread.sleep(500);
        }

        training.cluster.killJobManager();
        training.cluster.restartJobManager();
        training.produce(in, 1500, 1000);
        JobClient second = training.submit(in, out, "jm-kill", "latest", CHECKPOINT_MS);
        try {
            List<StudentCheckpoint> all = training.awaitRecordsSeen(out, trainingRecords(0, 2500), Duration.ofSeconds(120));
            assertExactlyOnce(all, 0, 2500);
            StudentCheckpoint lastBefore = last(before);
            List<StudentCheckpoint> after = all.stream().filter(c -> c.getVersion() > lastBefore.getVersion()).toList();
            assertThat(after).as("versions after the restart").isNotEmpty();
            assertThat(after.get(0).getStep()).as("the resubmitted job continued the model").isGreaterThan(lastBefore.getStep());
            for (Path log : Files.list(dir.resolve("flink/log")).filter(p -> p.toString().endsWith(".log")).toList()) {
                assertThat(Files.readString(log)).as(log.getFileName().toString()).doesNotContain("already loaded in another classloader");
            }
        } finally {
            ClusterTraining.cancelIfRunning(second);
        }
    }

    /**
     * Rescaling on separate processes: train.parallelism 1 → 2 → 1 through savepoints in the shared
     * directory, so at 2 the replicas run in two TaskManager JVMs and the second takes over the
     * restored student through the handover file. The model continues and every record is trained once.
     */
    @Test
    void rescalingOneToTwoToOneThroughSavepointsOnTwoTaskManagers() throws Exception {
        String in = SharedStack.newTopic("cluster-rescale-soft", 2);
        String out = SharedStack.newTopic("cluster-rescale-checkpoints", 1);
        String savepoints = training.cluster.sharedDir().resolve("savepoints").toUri().toString();
        training.produce(in, 0, 1000);
        JobClient job = training.submit(in, out, "rescale", "none", CHECKPOINT_MS);
        List<StudentCheckpoint> one = training.awaitRecordsSeen(out, trainingRecords(0, 1000), Duration.ofSeconds(120));
        String savepoint = job.stopWithSavepoint(false, savepoints, org.apache.flink.core.execution.SavepointFormatType.CANONICAL).get();

        job = training.submit(in, out, "rescale", savepoint, CHECKPOINT_MS, Map.of("train.parallelism", "2"));
        training.produce(in, 1000, 1000);
        List<StudentCheckpoint> two = training.awaitRecordsSeen(out, trainingRecords(0, 2000), Duration.ofSeconds(120));
        savepoint = job.stopWithSavepoint(false, savepoints, org.apache.flink.core.execution.SavepointFormatType.CANONICAL).get();

        job = training.submit(in, out, "rescale", savepoint, CHECKPOINT_MS);
        try {
            training.produce(in, 2000, 500);
            List<StudentCheckpoint> all = training.awaitRecordsSeen(out, trainingRecords(0, 2500), Duration.ofSeconds(120));
            assertExactlyOnce(all, 0, 2500);
            assertThat(two.subList(one.size(), two.size())).as("versions at train.parallelism=2").isNotEmpty()
                    .last().satisfies(c -> assertThat(c.getMetrics()).containsEntry("trainer_parallelism", 2.0));
            assertThat(last(all).getMetrics()).containsEntry("trainer_parallelism", 1.0);
            assertThat(last(all).getMetrics().get("holdout_agreement")).as("the rule is still learnt")
                    .isGreaterThanOrEqualTo(last(one).getMetrics().get("holdout_agreement") - 0.01);
        } finally {
            ClusterTraining.cancelIfRunning(job);
        }
    }

    /** Versions and steps increase, and the last version was trained on exactly the training records {@code from .. from+n-1}, by id. */
    private static void assertExactlyOnce(List<StudentCheckpoint> all, int from, int n) {
        assertThat(all.stream().map(StudentCheckpoint::getVersion).toList()).as("versions").isSorted().doesNotHaveDuplicates();
        assertThat(all.stream().map(StudentCheckpoint::getStep).toList()).as("steps: the model continued").isSorted();
        List<String> ids = ClusterTraining.trainingIds(from, n);
        assertThat(last(all).getRecordsSeen()).as("every training record once: none lost, none twice").isEqualTo(ids.size());
        assertThat(last(all).getTrainedIds()).as("trained ids").isNotNull();
        assertThat(last(all).getTrainedIds().getDigest()).as("the ids trained on: every one once, none missing, none twice")
                .isEqualTo(io.streamdistill.trainer.TrainedIdsDigest.of(ids));
    }
}
