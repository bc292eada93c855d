package io.streamdistill.localstack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole local stack: an embedded KRaft broker, a real Apicurio Registry child JVM, and the
 * topics. The registry JVM is launched first and starts while the broker starts in this JVM.
 *
 * <pre>{@code
 * try (LocalStack stack = LocalStack.builder().topics(List.of("a", "b"), 1).build().start()) {
 *     stack.bootstrapServers();   // 127.0.0.1:<port>
 *     stack.registryUrl();        // http://127.0.0.1:<port>/apis/ccompat/v7
 * }
 * }</pre>
 */
public final class LocalStack implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalStack.class);

    private final EmbeddedKafka kafka;
    private final ApicurioRegistry registry;
    private final List<NewTopic> topics;
    private boolean started;

    private LocalStack(Builder b) {
        Path kafkaDir = b.dataDir == null ? null : b.dataDir.resolve("kafka");
        Path registryDir = b.dataDir == null ? null : b.dataDir.resolve("registry");
        this.kafka = EmbeddedKafka.builder().logDir(kafkaDir).brokerPort(b.brokerPort).build();
        this.registry = ApicurioRegistry.builder().dataDir(registryDir).persistent(b.dataDir != null)
                .port(b.registryPort).build();
        this.topics = List.copyOf(b.topics);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts everything; on failure stops what did start and rethrows. */
    public synchronized LocalStack start() {
        if (started) {
            throw new IllegalStateException("the local stack is already running (Kafka " + kafka.bootstrapServers()
                    + ", registry " + registry.confluentUrl() + ")");
        }
        long t0 = System.nanoTime();
        try {
            registry.launch();
            kafka.start();
            if (!topics.isEmpty()) {
                try (Admin admin = admin()) {
                    TopicSetup.ensureTopics(admin, topics, Duration.ofSeconds(60));
                }
            }
            registry.awaitReady();
        } catch (RuntimeException e) {
            registry.stop();
            kafka.stop();
            throw e;
        }
        started = true;
        LOG.info("local stack ready in {} ms: Kafka {}, registry {}", (System.nanoTime() - t0) / 1_000_000,
                kafka.bootstrapServers(), registry.confluentUrl());
        return this;
    }

    /** Stops the registry and the broker, keeping their data. Returns false if nothing was running. */
    public synchronized boolean stop() {
        boolean any = registry.stop() | kafka.stop();
        started = false;
        return any;
    }

    /** Stops everything and deletes temporary data. Idempotent. */
    @Override
    public synchronized void close() {
        registry.close();
        kafka.close();
        started = false;
    }

    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** The Confluent-compatible registry URL, for {@code schema.registry.url}. */
    public String registryUrl() {
        return registry.confluentUrl();
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    public ApicurioRegistry registry() {
        return registry;
    }

    public static final class Builder {
        private Path dataDir;
        private int brokerPort;
        private int registryPort;
        private final List<NewTopic> topics = new ArrayList<>();

        /**
         * Keep broker data and registry schemas under this directory (kafka/ and registry/), so a
         * later stack on the same directory sees the same topics, records and schema ids. Default:
         * temporary directories, deleted on close.
         */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        public Builder brokerPort(int port) {
            this.brokerPort = port;
            return this;
        }

        public Builder registryPort(int port) {
            this.registryPort = port;
            return this;
        }

        /** Topics to create (if missing) with this many partitions each. */
        public Builder topics(List<String> names, int partitions) {
            if (partitions < 1) {
                throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
            }
            names.forEach(n -> topics.add(new NewTopic(n, Optional.of(partitions), Optional.empty())));
            return this;
        }

        public LocalStack build() {
            if (dataDir != null) {
                try {
                    Files.createDirectories(dataDir);
                } catch (java.io.IOException e) {
                    throw new LocalStackException("cannot create the data directory " + dataDir + ": " + e.getMessage(), e);
                }
            }
            return new LocalStack(this);
        }
    }
}
