package io.streamdistill.it;

import static io.streamdistill.it.ClusterTraining.last;
import static io.streamdistill.it.ClusterTraining.trainingRecords;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.localstack.LocalStack;
import io.streamdistill.records.StudentCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;

/**
 * {@code mvn -pl integration-tests exec:exec@cluster-benchmark}: the trainer's job on a cluster of two
 * one-slot TaskManagers at the default checkpoint interval (10 s), with traffic throughout; the
 * TaskManager running the job is SIGKILLed {@code -Dbench.kills} times (default 3), each time after
 * the job has settled, and a replacement started. Per kill it reports the seconds from the kill to
 * the job RUNNING again and to the next published version (visible read_committed), then RSS per
 * process and whether every record was trained once. Writes target/cluster-benchmark.json.
 *
 * <p>With {@code -Dbench.mode=parallel} it compares {@code train.parallelism} 1 and 2 instead
 * ({@code -Dbench.records}, default 40,000, pre-filled; checkpoints every 2 s): seconds until a
 * version covers every training record, CPU-seconds of the cluster's processes per 1,000 records,
 * holdout agreement and sync bytes. Writes target/cluster-parallel-benchmark.json.
 */
public final class ClusterBenchmark {
    public static void main(String[] args) throws Exception {
        int kills = Integer.getInteger("bench.kills", 3);
        Path dir = Files.createTempDirectory(Path.of("target"), "cluster-bench");
        try (LocalStack stack = LocalStack.builder().dataDir(dir.resolve("stack")).topics(List.of("bench.soft", "bench.checkpoints", "bench.checkpoints.p1", "bench.checkpoints.p2"), 1)
                .build().start()) {
            ClusterTraining training = ClusterTraining.start(dir, 2, stack.bootstrapServers(), stack.registryUrl());
            try {
                if ("parallel".equals(System.getProperty("bench.mode"))) {
                    parallel(training, Integer.getInteger("bench.records", 40_000), dir);
                    return;
                }
                run(training, kills, dir);
            } finally {
                training.cluster.close();
            }
        }
    }

    private static void run(ClusterTraining training, int kills, Path dir) throws Exception {
        String in = "bench.soft";
        String out = "bench.checkpoints";
        int produced = 1500;
        training.produce(in, 0, produced);
        JobClient job = training.submit(in, out, "bench", "none", 10_000); // the default interval
        String jobId = job.getJobID().toString();
        training.awaitRecordsSeen(out, trainingRecords(0, produced), Duration.ofSeconds(180));
        List<Map<String, Object>> rows = new ArrayList<>();
        System.out.printf("%-5s %-12s %-22s %-26s%n", "kill", "TaskManager", "kill -> job running, s", "kill -> next version, s");
        for (int k = 1; k <= kills; k++) {
            // 3,000 records over ~30 s: traffic before, during and after the kill
            Thread traffic = training.produceInBackground(in, produced, 3000, 20);
            produced += 3000;
            Thread.sleep(12_000); // past at least one checkpoint since the last recovery
            int victim = training.cluster.taskManagerRunning(jobId);
            long killedAt = System.nanoTime();
            training.cluster.killTaskManager(victim);
            // Read after the kill: what the dead TaskManager committed is visible now, and nothing newer can be yet
            // (the JobManager needs 5 s to notice).
            long lastVersion = last(training.checkpoints(out)).getVersion();
            double running = Double.NaN;
            while (Double.isNaN(running)) {
                int now = training.cluster.taskManagerRunning(jobId);
                if (now >= 0 && now != victim) {
                    running = (System.nanoTime() - killedAt) / 1e9;
                }
                Thread.sleep(100);
            }
            StudentCheckpoint next = training.awaitVersionAfter(out, lastVersion, Duration.ofSeconds(120));
            double version = (System.nanoTime() - killedAt) / 1e9;
            System.out.printf("%-5d %-12d %-22.1f %-26.1f%n", k, victim, running, version);
            rows.add(Map.of("kill", k, "task_manager", victim, "seconds_to_running", running, "seconds_to_next_version", version,
                    "next_version", next.getVersion()));
            training.cluster.startTaskManager();
            training.cluster.awaitTaskManagers(2);
            traffic.join();
        }
        List<StudentCheckpoint> all = training.awaitRecordsSeen(out, trainingRecords(0, produced), Duration.ofSeconds(180));
        long seen = last(all).getRecordsSeen();
        boolean increasing = all.stream().map(StudentCheckpoint::getVersion).distinct().count() == all.size();
        String rss = training.rssReport() + "; the driver JVM (broker, registry client) "
                + ClusterTraining.rssMb(ProcessHandle.current().pid()) + " MB";
        System.out.println("RSS per process: " + rss);
        System.out.printf("records trained %d of %d training records produced; versions %d, none twice: %s%n", seen,
                trainingRecords(0, produced), all.size(), increasing);
        job.cancel().get();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("kills", rows);
        result.put("checkpoint_interval_ms", 10_000);
        result.put("heartbeat_timeout_ms", 15_000);
        result.put("records_trained", seen);
        result.put("training_records_produced", trainingRecords(0, produced));
        result.put("versions_unique", increasing);
        result.put("rss", rss);
        Path file = Path.of("target", "cluster-benchmark.json");
        Files.writeString(file, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(result));
        System.out.println("wrote " + file.toAbsolutePath() + " (cluster logs in " + dir.resolve("flink/log") + ")");
    }

    /** N = 1 then 2 training subtasks over the same pre-filled topic, on two one-slot TaskManagers. */
    private static void parallel(ClusterTraining training, int records, Path dir) throws Exception {
        String in = "bench.soft";
        training.produce(in, 0, records);
        long trainable = trainingRecords(0, records);
        List<Map<String, Object>> rows = new ArrayList<>();
        System.out.printf("%-18s %-22s %-22s %-18s %-14s%n", "train.parallelism", "to every record, s", "cluster CPU-s / 1k",
                "holdout agreement", "sync bytes");
        for (int n : new int[] {1, 2}) {
            String out = "bench.checkpoints.p" + n;
            double cpuBefore = training.cluster.pids().stream().mapToDouble(ClusterTraining::cpuSeconds).sum();
            long started = System.nanoTime();
            JobClient job = training.submit(in, out, "parallel-" + n, "none", 2_000, Map.of("train.parallelism", String.valueOf(n),
                    "export.every.records", "5000"));
            List<StudentCheckpoint> all = training.awaitRecordsSeen(out, trainable, Duration.ofSeconds(300));
            double seconds = (System.nanoTime() - started) / 1e9;
            double cpu = training.cluster.pids().stream().mapToDouble(ClusterTraining::cpuSeconds).sum() - cpuBefore;
            job.cancel().get();
            StudentCheckpoint last = last(all);
            double sync = last.getMetrics().getOrDefault("sync_bytes_total", 0.0);
            System.out.printf("%-18d %-22.1f %-22.3f %-18.4f %-14.0f%n", n, seconds, cpu / records * 1000,
                    last.getMetrics().get("holdout_agreement"), sync);
            rows.add(Map.of("train_parallelism", n, "seconds_to_every_record", seconds, "cluster_cpu_seconds_per_1000", cpu / records * 1000,
                    "holdout_agreement", last.getMetrics().get("holdout_agreement"), "sync_bytes", sync, "records_trained",
                    last.getRecordsSeen(), "trainable", trainable));
        }
        Path file = Path.of("target", "cluster-parallel-benchmark.json");
        Files.writeString(file, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(Map.of("records", records,
                "runs", rows, "rss", training.rssReport())));
        System.out.println("wrote " + file.toAbsolutePath() + " (cluster logs in " + dir.resolve("flink/log") + ")");
    }

    private ClusterBenchmark() {
    }
}
