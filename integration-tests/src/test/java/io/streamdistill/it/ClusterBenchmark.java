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
 */
public final class ClusterBenchmark {
    public static void main(String[] args) throws Exception {
        int kills = Integer.getInteger("bench.kills", 3);
        Path dir = Files.createTempDirectory(Path.of("target"), "cluster-bench");
        try (LocalStack stack = LocalStack.builder().dataDir(dir.resolve("stack")).topics(List.of("bench.soft", "bench.checkpoints"), 1)
                .build().start()) {
            ClusterTraining training = ClusterTraining.start(dir, 2, stack.bootstrapServers(), stack.registryUrl());
            try {
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
        result.put("heartbeat_timeout_ms", 5_000);
        result.put("records_trained", seen);
        result.put("training_records_produced", trainingRecords(0, produced));
        result.put("versions_unique", increasing);
        result.put("rss", rss);
        Path file = Path.of("target", "cluster-benchmark.json");
        Files.writeString(file, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(result));
        System.out.println("wrote " + file.toAbsolutePath() + " (cluster logs in " + dir.resolve("flink/log") + ")");
    }

    private ClusterBenchmark() {
    }
}
