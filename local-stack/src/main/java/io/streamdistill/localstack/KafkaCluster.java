package io.streamdistill.localstack;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A KRaft Kafka cluster of N nodes, each broker and controller in one and each its own JVM
 * ({@code kafka.Kafka server.properties}, Kafka's own entry point), on 127.0.0.1. Separate
 * processes, not brokers in this JVM, so that a broker can be SIGKILLed the way a machine fails:
 * its sockets, page cache writes and in-flight requests end at once, which an in-process shutdown
 * cannot show. Every topic and internal topic is replicated to all nodes, min.insync.replicas is
 * N-1, so with 3 nodes one may die while acks=all producers and transactions go on. Each node has
 * its own log directory under {@code dir/node-<id>} and the registry's lifeline ({@link ParentWatchdog}).
 */
public final class KafkaCluster implements KafkaBrokers {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaCluster.class);

    private final Path dir;
    private final boolean temporaryDir;
    private final int nodes;
    private final int[] brokerPorts;
    private final int[] controllerPorts;
    private final Process[] processes;
    private boolean closed;

    private KafkaCluster(Path dir, int nodes) {
        try {
            this.temporaryDir = dir == null;
            this.dir = temporaryDir ? Files.createTempDirectory("streamdistill-kafka-cluster-") : dir.toAbsolutePath();
            Files.createDirectories(this.dir);
        } catch (IOException e) {
            throw new LocalStackException("cannot create the Kafka cluster's directory " + dir + ": " + e.getMessage(), e);
        }
        if (nodes < 3) {
            throw new IllegalArgumentException("a Kafka cluster here has at least 3 nodes (a controller quorum that survives one "
                    + "loss), got " + nodes + "; one node is EmbeddedKafka");
        }
        this.nodes = nodes;
        this.brokerPorts = new int[nodes];
        this.controllerPorts = new int[nodes];
        this.processes = new Process[nodes];
    }

    /** A cluster of {@code nodes} (at least 3) under {@code dir}; null for a temporary directory deleted on close. */
    public static KafkaCluster of(Path dir, int nodes) {
        return new KafkaCluster(dir, nodes);
    }

    /**
     * The number of nodes of the cluster whose data is in {@code dir} (its node-N directories), or
     * 1 when it holds none: how a stack restarted on a data directory keeps its broker count.
     */
    public static int nodesIn(Path dir) {
        if (dir == null || !Files.exists(dir.resolve("cluster.id"))) {
            return 1;
        }
        try (var entries = Files.list(dir)) {
            return (int) entries.filter(p -> p.getFileName().toString().matches("node-\\d+") && Files.isDirectory(p)).count();
        } catch (IOException e) {
            throw new LocalStackException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Formats new node directories, starts every node, and returns once all of them are in the cluster. */
    @Override
    public synchronized KafkaCluster start() {
        if (closed) {
            throw new IllegalStateException("this Kafka cluster was closed; build a new one");
        }
        long t0 = System.nanoTime();
        ports();
        String clusterId = clusterId();
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < nodes; i++) {
            voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(controllerPorts[i]);
        }
        try {
            for (int i = 0; i < nodes; i++) {
                Path logDir = dir.resolve("node-" + (i + 1));
                Files.createDirectories(logDir);
                Map<String, String> config = EmbeddedKafka.nodeConfig(i + 1, voters.toString(), brokerPorts[i], controllerPorts[i],
                        logDir.resolve("data"), nodes);
                Properties p = new Properties();
                p.putAll(config);
                try (Writer w = Files.newBufferedWriter(logDir.resolve("server.properties"), StandardCharsets.UTF_8)) {
                    p.store(w, "node " + (i + 1) + " of the local Kafka cluster");
                }
                if (!Files.exists(logDir.resolve("data").resolve("meta.properties"))) {
                    EmbeddedKafka.format(logDir.resolve("data"), clusterId, i + 1, null);
                }
            }
        } catch (IOException e) {
            throw new LocalStackException("cannot write the Kafka cluster's config under " + dir + ": " + e.getMessage(), e);
        }
        for (int i = 0; i < nodes; i++) {
            launch(i);
        }
        try {
            awaitNodes(nodes, Duration.ofSeconds(90));
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
        LOG.info("Kafka cluster of {} nodes ready at {} in {} ms", nodes, bootstrapServers(), (System.nanoTime() - t0) / 1_000_000);
        return this;
    }

    /** SIGKILLs node {@code id} (1-based), as a machine failure would. */
    public synchronized void killBroker(int id) {
        Process p = processes[id - 1];
        if (p != null) {
            p.destroyForcibly();
            waitFor(p);
        }
    }

    /** Starts node {@code id} again on its data and ports, and waits until the cluster has all nodes again. */
    public synchronized void restartBroker(int id) {
        if (processes[id - 1] != null && processes[id - 1].isAlive()) {
            throw new IllegalStateException("Kafka node " + id + " is still running");
        }
        launch(id - 1);
        awaitNodes(nodes, Duration.ofSeconds(90));
    }

    @Override
    public synchronized boolean stop() {
        boolean any = false;
        for (Process p : processes) {
            if (p != null && p.isAlive()) {
                // SIGTERM: Kafka's controlled shutdown, then its data is clean for a restart.
                p.destroy();
                any = true;
            }
        }
        for (Process p : processes) {
            if (p != null) {
                waitFor(p);
            }
        }
        return any;
    }

    @Override
    public synchronized void close() {
        stop();
        if (!closed && temporaryDir) {
            Files2.deleteRecursively(dir);
        }
        closed = true;
    }

    @Override
    public synchronized boolean isRunning() {
        for (Process p : processes) {
            if (p != null && p.isAlive()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public synchronized String bootstrapServers() {
        if (brokerPorts[0] == 0) {
            throw new IllegalStateException("the Kafka cluster has not been started yet");
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < nodes; i++) {
            sb.append(i == 0 ? "" : ",").append("127.0.0.1:").append(brokerPorts[i]);
        }
        return sb.toString();
    }

    @Override
    public Map<String, Object> adminSettings() {
        Map<String, Object> m = new HashMap<>();
        m.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return m;
    }

    /** Plaintext only: a secure multi-node stack is not built. */
    @Override
    public BrokerSecurity security() {
        return null;
    }

    /** Ports chosen once (kept in ports.properties under the directory, so a restarted stack keeps its addresses). */
    private void ports() {
        Path file = dir.resolve("ports.properties");
        Properties saved = new Properties();
        try {
            if (Files.exists(file)) {
                try (var r = Files.newBufferedReader(file)) {
                    saved.load(r);
                }
            }
            for (int i = 0; i < nodes; i++) {
                brokerPorts[i] = Ports.claim(Integer.parseInt(saved.getProperty("broker." + (i + 1), "0")), "Kafka node " + (i + 1));
                controllerPorts[i] = Ports.claim(Integer.parseInt(saved.getProperty("controller." + (i + 1), "0")),
                        "Kafka controller " + (i + 1));
                saved.setProperty("broker." + (i + 1), String.valueOf(brokerPorts[i]));
                saved.setProperty("controller." + (i + 1), String.valueOf(controllerPorts[i]));
            }
            try (Writer w = Files.newBufferedWriter(file)) {
                saved.store(w, "ports of the local Kafka cluster");
            }
        } catch (IOException e) {
            throw new LocalStackException("cannot read or write " + file + ": " + e.getMessage(), e);
        }
    }

    private String clusterId() {
        Path file = dir.resolve("cluster.id");
        try {
            if (Files.exists(file)) {
                return Files.readString(file).strip();
            }
            String id = Uuid.randomUuid().toString();
            Files.writeString(file, id);
            return id;
        } catch (IOException e) {
            throw new LocalStackException("cannot read or write " + file + ": " + e.getMessage(), e);
        }
    }

    private void launch(int i) {
        Path nodeDir = dir.resolve("node-" + (i + 1));
        Path watchdog = ApicurioRegistry.ParentWatchdogInstaller.install(dir.resolve("watchdog-classes"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:+UseSerialGC", "-cp", watchdog + java.io.File.pathSeparator + System.getProperty("java.class.path"),
                ParentWatchdog.class.getName(), String.valueOf(ProcessHandle.current().pid()), "kafka.Kafka",
                nodeDir.resolve("server.properties").toString()));
        try {
            Process p = new ProcessBuilder(cmd).directory(nodeDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(nodeDir.resolve("broker.log").toFile())).start();
            processes[i] = p; // it holds the stdin pipe that is the node's lifeline
        } catch (IOException e) {
            throw new LocalStackException("cannot start Kafka node " + (i + 1) + ": " + e.getMessage(), e);
        }
    }

    private void awaitNodes(int expected, Duration timeout) {
        Properties p = new Properties();
        p.putAll(adminSettings());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(p)) {
            while (true) {
                for (int i = 0; i < nodes; i++) {
                    if (processes[i] != null && !processes[i].isAlive() && processes[i].exitValue() != 137) {
                        throw new LocalStackException("Kafka node " + (i + 1) + " exited with " + processes[i].exitValue()
                                + "; see " + dir.resolve("node-" + (i + 1)).resolve("broker.log"));
                    }
                }
                String why = "";
                try {
                    if (admin.describeCluster().nodes().get().size() >= expected) {
                        return;
                    }
                } catch (Exception e) {
                    why = ": " + e.getMessage();
                }
                if (System.nanoTime() > deadline) {
                    throw new LocalStackException("the Kafka cluster at " + bootstrapServers() + " did not have " + expected
                            + " nodes within " + timeout.toSeconds() + " s" + why + "; logs in " + dir);
                }
                EmbeddedKafka.sleep(200);
            }
        }
    }

    private static void waitFor(Process p) {
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
