package io.streamdistill.localstack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node KRaft Kafka broker (broker and controller in one) running in this JVM on
 * 127.0.0.1. Every replication factor and min ISR is 1, so transactions and consumer groups work
 * on one node. {@link #stop()} keeps the data and ports, so {@link #start()} can bring the same
 * broker back (a broker restart); {@link #close()} also deletes a temporary log directory.
 */
public final class EmbeddedKafka implements KafkaBrokers {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final String META_PROPERTIES = "meta.properties";

    private final Path logDir;
    private final boolean temporaryDir;
    private final Map<String, String> overrides;
    private final BrokerSecurity security;
    private int brokerPort;
    private int controllerPort;
    private KafkaRaftServer server;
    private boolean closed;

    private EmbeddedKafka(Builder b) {
        try {
            this.temporaryDir = b.logDir == null;
            this.logDir = temporaryDir ? Files.createTempDirectory("streamdistill-kafka-") : b.logDir.toAbsolutePath();
            Files.createDirectories(logDir);
        } catch (IOException e) {
            throw new LocalStackException("cannot create the Kafka log directory " + b.logDir + ": " + e.getMessage(), e);
        }
        this.brokerPort = b.brokerPort;
        this.controllerPort = b.controllerPort;
        this.overrides = Map.copyOf(b.overrides);
        this.security = b.security;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Formats the log directory when it is new and starts the broker; returns when it accepts
     * connections.
     *
     * @throws IllegalStateException when it is already running or was closed
     * @throws LocalStackException when a port is taken or the broker fails to start
     */
    public synchronized EmbeddedKafka start() {
        if (closed) {
            throw new IllegalStateException("this embedded Kafka broker was closed; build a new one");
        }
        if (server != null) {
            throw new IllegalStateException("the embedded Kafka broker is already running at " + bootstrapServers());
        }
        long t0 = System.nanoTime();
        brokerPort = Ports.claim(brokerPort, "Kafka broker");
        controllerPort = Ports.claim(controllerPort, "Kafka controller");
        Map<String, String> props = config();
        KafkaConfig config = new KafkaConfig(props, false);
        if (!Files.exists(logDir.resolve(META_PROPERTIES))) {
            format();
        }
        KafkaRaftServer s = new KafkaRaftServer(config, Time.SYSTEM);
        try {
            s.startup();
        } catch (RuntimeException e) {
            shutdownQuietly(s);
            throw new LocalStackException("the embedded Kafka broker failed to start on 127.0.0.1:" + brokerPort
                    + " with log dir " + logDir + ": " + e.getMessage(), e);
        }
        this.server = s;
        awaitReady(Duration.ofSeconds(60));
        LOG.info("embedded Kafka broker ready at {} in {} ms (log dir {})", bootstrapServers(),
                (System.nanoTime() - t0) / 1_000_000, logDir);
        return this;
    }

    /** Stops the broker, keeping its data and ports for a later {@link #start()}. Returns false if it was not running. */
    public synchronized boolean stop() {
        if (server == null) {
            return false;
        }
        shutdownQuietly(server);
        server = null;
        return true;
    }

    /** Stops the broker and deletes the log directory when it was a temporary one. Idempotent. */
    @Override
    public synchronized void close() {
        stop();
        if (!closed && temporaryDir) {
            Files2.deleteRecursively(logDir);
        }
        closed = true;
    }

    public synchronized boolean isRunning() {
        return server != null;
    }

    /** {@code 127.0.0.1:<port>}, stable across {@link #stop()} and {@link #start()}. */
    public synchronized String bootstrapServers() {
        if (brokerPort == 0) {
            throw new IllegalStateException("the embedded Kafka broker has not been started yet");
        }
        return "127.0.0.1:" + brokerPort;
    }

    /** Client settings with the broker's full rights: bootstrap servers, and on a secured broker its admin principal. */
    public Map<String, Object> adminSettings() {
        Map<String, Object> m = new HashMap<>();
        m.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        if (security != null) {
            m.putAll(security.clientSettings(BrokerSecurity.ADMIN));
        }
        return m;
    }

    /** The certificates and principals of a secured broker, or null for a plaintext one. */
    public BrokerSecurity security() {
        return security;
    }

    public Path logDir() {
        return logDir;
    }

    private Map<String, String> config() {
        Map<String, String> p = nodeConfig(1, "1@127.0.0.1:" + controllerPort, brokerPort, controllerPort, logDir, 1);
        if (security != null) {
            p.putAll(security.brokerSettings(brokerPort, controllerPort));
        }
        p.putAll(overrides);
        return p;
    }

    /**
     * A KRaft node that is broker and controller in one, on 127.0.0.1: {@code replicas} is the
     * replication factor of every topic and internal topic, and min.insync.replicas is one less
     * (at least 1), so one node of three may be down while producers with acks=all go on.
     */
    static Map<String, String> nodeConfig(int nodeId, String voters, int brokerPort, int controllerPort, Path logDir, int replicas) {
        String rf = String.valueOf(replicas);
        String minIsr = String.valueOf(Math.max(1, replicas - 1));
        Map<String, String> p = new HashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(nodeId));
        p.put("controller.quorum.voters", voters);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", logDir.toString());
        p.put("num.partitions", "1");
        p.put("default.replication.factor", rf);
        p.put("min.insync.replicas", minIsr);
        p.put("offsets.topic.replication.factor", rf);
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", rf);
        p.put("transaction.state.log.min.isr", minIsr);
        p.put("transaction.state.log.num.partitions", "1");
        p.put("share.coordinator.state.topic.replication.factor", rf);
        p.put("share.coordinator.state.topic.min.isr", minIsr);
        p.put("group.initial.rebalance.delay.ms", "0");
        // The cleaner's default 128 MiB dedupe buffer dominates the heap of a tiny broker.
        p.put("log.cleaner.dedupe.buffer.size", String.valueOf(2 * 1024 * 1024));
        p.put("auto.create.topics.enable", "false");
        p.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
        return p;
    }

    private void format() {
        format(logDir, Uuid.randomUuid().toString(), 1, security);
    }

    /** Formats a node's log directory for a cluster id (the same on every node of a cluster). */
    static void format(Path logDir, String clusterId, int nodeId, BrokerSecurity security) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            new Formatter()
                    .setPrintStream(ps)
                    .setClusterId(clusterId)
                    .setNodeId(nodeId)
                    .setDirectories(List.of(logDir.toString()))
                    .setMetadataLogDirectory(logDir.toString())
                    .setControllerListenerName("CONTROLLER")
                    .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    // Transaction protocol v1: with v2, Flink's EXACTLY_ONCE KafkaSink logs a false
                    // "producer fenced ... data loss" error on every restore (see DESIGN.md).
                    .setFeatureLevel(Feature.TRANSACTION_VERSION.featureName(), (short) 1)
                    .setScramArguments(security == null ? List.of() : security.scramArguments())
                    .run();
        } catch (Exception e) {
            throw new LocalStackException("cannot format the Kafka log directory " + logDir + ": " + e.getMessage()
                    + (out.size() > 0 ? " (" + out.toString(StandardCharsets.UTF_8).trim() + ")" : ""), e);
        }
    }

    private void awaitReady(Duration timeout) {
        Properties p = new Properties();
        p.putAll(adminSettings());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(p)) {
            while (true) {
                try {
                    if (!admin.describeCluster().nodes().get().isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        stop();
                        throw new LocalStackException("the embedded Kafka broker did not answer at " + bootstrapServers()
                                + " within " + timeout.toSeconds() + " s: " + e.getMessage(), e);
                    }
                }
                sleep(100);
            }
        }
    }

    private static void shutdownQuietly(KafkaRaftServer s) {
        try {
            s.shutdown();
            s.awaitShutdown();
        } catch (RuntimeException e) {
            LOG.warn("error while stopping the embedded Kafka broker: {}", e.toString());
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalStackException("interrupted", e);
        }
    }

    public static final class Builder {
        private Path logDir;
        private int brokerPort;
        private int controllerPort;
        private final Map<String, String> overrides = new HashMap<>();
        private BrokerSecurity security;

        /** SASL_SSL (SCRAM-SHA-512) for clients, mTLS on the controller listener, ACLs enforced; null (default): plaintext. */
        public Builder security(BrokerSecurity s) {
            this.security = s;
            return this;
        }

        /** Where the broker keeps its data; null (the default) uses a temporary directory. An existing, formatted dir is reused. */
        public Builder logDir(Path dir) {
            this.logDir = dir;
            return this;
        }

        /** The client port on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder brokerPort(int port) {
            this.brokerPort = port;
            return this;
        }

        /** The KRaft controller port on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder controllerPort(int port) {
            this.controllerPort = port;
            return this;
        }

        /** Any broker setting, applied last. */
        public Builder config(String key, String value) {
            overrides.put(key, value);
            return this;
        }

        public EmbeddedKafka build() {
            return new EmbeddedKafka(this);
        }
    }
}
