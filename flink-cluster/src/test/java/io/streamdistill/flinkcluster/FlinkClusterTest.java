package io.streamdistill.flinkcluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.localstack.LocalStackException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster's own processes; the trainer on it is in integration-tests (TrainerOnFlinkClusterTest). */
class FlinkClusterTest {

    /**
     * A JVM that started a cluster is SIGKILLed: its JobManager and TaskManager end too (the
     * registry's lifeline). While the cluster was up its REST port served the web UI, and its
     * config, classpath and logs were in the cluster's directory.
     */
    @Test
    void theClusterDiesWithTheJvmThatStartedItEvenOnSigkill(@TempDir Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process holder = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                ClusterHolderMain.class.getName(), dir.toString()).redirectErrorStream(true).start();
        List<ProcessHandle> children = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))) {
            String rest = null;
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("CLUSTER ")) {
                    String[] p = line.split(" ");
                    rest = p[1];
                    for (int i = 2; i < p.length; i++) {
                        children.add(ProcessHandle.of(Long.parseLong(p[i])).orElseThrow());
                    }
                    break;
                }
            }
            assertThat(children).as("the holder started a JobManager and a TaskManager").hasSize(2);
            HttpResponse<String> ui = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(rest + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ui.statusCode()).isEqualTo(200);
            assertThat(ui.body()).as("the web UI (flink-runtime-web)").containsIgnoringCase("<html");
            assertThat(dir.resolve("conf/config.yaml")).content().contains("taskmanager.numberOfTaskSlots: \"1\"");
            assertThat(dir.resolve("conf/classpath.txt")).content().contains("flink-runtime-2").doesNotContain("kafka");
            assertThat(dir.resolve("log/taskmanager-0.log")).isRegularFile();

            holder.destroyForcibly(); // SIGKILL: no shutdown hook runs in the holder
            holder.waitFor(10, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (children.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(children).as("JobManager and TaskManager end once their parent is killed").noneMatch(ProcessHandle::isAlive);
        } finally {
            holder.destroyForcibly();
            children.forEach(ProcessHandle::destroyForcibly);
        }
    }

    /** Run in a separate JVM by the test above: starts a cluster, prints its REST URL and pids, and waits to be killed. */
    public static final class ClusterHolderMain {
        public static void main(String[] args) throws Exception {
            FlinkCluster cluster = FlinkCluster.builder().dir(Path.of(args[0])).taskManagers(1).build().start();
            StringBuilder line = new StringBuilder("CLUSTER ").append(cluster.restUrl());
            cluster.pids().forEach(p -> line.append(' ').append(p));
            System.out.println(line);
            System.out.flush();
            Thread.sleep(TimeUnit.MINUTES.toMillis(5));
            cluster.close();
        }
    }

    /** A REST port in use is refused before any process starts, naming the port. */
    @Test
    void aRestPortInUseIsRefusedWithThePortNamed(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> FlinkCluster.builder().dir(dir).restPort(taken.getLocalPort()).build().start())
                    .isInstanceOf(LocalStackException.class)
                    .hasMessageContaining("Flink REST port " + taken.getLocalPort() + " on 127.0.0.1 is already in use");
        }
        assertThat(Files.exists(dir.resolve("log/jobmanager.log"))).isFalse();
    }

    /** A TaskManager that cannot start is reported in Flink's own words, not as a timeout, and the JobManager is stopped. */
    @Test
    void aTaskManagerThatCannotStartIsReportedInFlinksWords(@TempDir Path dir) {
        assertThatThrownBy(() -> FlinkCluster.builder().dir(dir).taskManagers(1).config("taskmanager.memory.process.size", "64m")
                .build().start())
                .isInstanceOf(LocalStackException.class)
                .hasMessageContaining("GET_TM_RESOURCE_PARAMS")
                .hasMessageContaining("memory");
    }

    @Test
    void aRestartIsReportedByItsInnermostCause() {
        String trace = """
                org.apache.flink.runtime.JobException: Recovery is suppressed
                	at org.apache.flink.runtime.executiongraph.failover.ExecutionFailureHandler.handleFailure(ExecutionFailureHandler.java:1)
                Caused by: java.lang.RuntimeException: wrapped
                	... 3 more
                Caused by: java.net.ConnectException: Connection refused
                	... 5 more
                """;
        assertThat(FlinkCluster.rootCause(trace)).isEqualTo("java.net.ConnectException: Connection refused");
        assertThat(FlinkCluster.rootCause("java.lang.IllegalStateException: no cause\n\tat a.b(C.java:1)"))
                .isEqualTo("java.lang.IllegalStateException: no cause");
    }
}
