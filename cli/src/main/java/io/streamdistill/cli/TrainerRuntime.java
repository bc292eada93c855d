package io.streamdistill.cli;

import io.streamdistill.flinkcluster.FlinkCluster;
import io.streamdistill.flinkcluster.JobJars;
import io.streamdistill.trainer.ClusterJob;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Where a command's trainer job runs: a MiniCluster inside this JVM, or a Flink session cluster of
 * child JVMs started for it, to which the job's code is shipped as a job jar would be.
 */
final class TrainerRuntime implements AutoCloseable {
    private final FlinkCluster cluster;
    private final int taskManagers;
    private final List<Path> jars;

    private TrainerRuntime(FlinkCluster cluster, int taskManagers, List<Path> jars) {
        this.cluster = cluster;
        this.taskManagers = taskManagers;
        this.jars = jars;
    }

    static TrainerRuntime local() {
        return new TrainerRuntime(null, 0, List.of());
    }

    /**
     * Starts a session cluster of {@code taskManagers} TaskManagers under {@code dir} and ships
     * {@code jobJar}, or without one the jars of this installation's trainer.
     */
    static TrainerRuntime cluster(Path dir, int taskManagers, Path jobJar) {
        FlinkCluster c = startCluster(dir, taskManagers, 1);
        try {
            List<Path> jars = jobJar != null ? List.of(jobJar)
                    : JobJars.of(ClusterJob.RUNTIME_LIST, dir.resolve("job"), ClusterJob.LIB_ARTIFACTS,
                            ClusterJob.ownClasses().toArray(Class<?>[]::new));
            return new TrainerRuntime(c, taskManagers, jars);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * A session cluster of child JVMs set up for the trainer: the JNI libraries' jars (tokenizer,
     * ONNX Runtime) in its lib/ and resolved parent first, so a job restarted inside a running
     * TaskManager finds them loaded instead of failing to load them a second time; and the default
     * tokenizer's jar, so no job ships its 83 MB.
     */
    static FlinkCluster startCluster(Path dir, int taskManagers, int slots) {
        return FlinkCluster.builder().dir(dir).taskManagers(taskManagers).slots(slots)
                .libJars(JobJars.named(ClusterJob.RUNTIME_LIST, ClusterJob.LIB_ARTIFACTS))
                .config("classloader.parent-first-patterns.additional", ClusterJob.PARENT_FIRST_PATTERNS).build().start();
    }

    StreamExecutionEnvironment environment(Configuration conf) {
        return ClusterJob.environment(cluster == null ? null : cluster.restAddress(), conf, jars);
    }

    /** One line for the console: where the job runs and where to look at it. */
    String describe() {
        return cluster == null ? "local MiniCluster in this JVM"
                : taskManagers + " TaskManager(s), web UI " + cluster.restUrl() + ", logs in " + cluster.sharedDir().resolve("log");
    }

    /** summary.json's {@code flink}. */
    Map<String, Object> summary(JobClient job) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", cluster == null ? "local" : "cluster");
        m.put("task_managers", cluster == null ? 1 : taskManagers);
        m.put("job_id", job.getJobID().toString());
        if (cluster != null) {
            m.put("rest_url", cluster.restUrl());
        }
        return m;
    }

    @Override
    public void close() {
        if (cluster != null) {
            cluster.close();
        }
    }
}
