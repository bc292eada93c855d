package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.localstack.FlinkCluster;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Flink session cluster of separate JVMs, from the Maven-resolved jars on this classpath. */
class FlinkClusterTest {

    /** Two TaskManagers register; one is SIGKILLed, the JobManager notices, and a replacement registers. */
    @Test
    void taskManagersRegisterAndAKilledOneIsReplaced(@TempDir Path dir) throws Exception {
        try (FlinkCluster cluster = FlinkCluster.builder().dir(dir).taskManagers(2).slots(1).build().start()) {
            assertThat(cluster.registeredTaskManagers()).isEqualTo(2);
            assertThat(cluster.pids()).hasSize(3);
            cluster.killTaskManager(0);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (cluster.registeredTaskManagers() > 1 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(cluster.registeredTaskManagers()).as("the JobManager dropped the killed TaskManager").isEqualTo(1);
            cluster.startTaskManager();
            cluster.awaitTaskManagers(2);
            assertThat(cluster.registeredTaskManagers()).isEqualTo(2);
            assertThat(dir.resolve("log/jobmanager.log")).isRegularFile();
        }
    }
}
