package io.streamdistill.localstack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole local stack: an embedded KRaft broker (or a cluster of broker JVMs), a real Apicurio
 * Registry child JVM, optionally an S3-compatible object store (a child JVM), and the topics. The registry JVM is launched first and starts while the broker starts in this JVM.
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

    private final KafkaBrokers kafka;
    private final ApicurioRegistry registry;
    private final List<NewTopic> topics;
    private final int gatewayPort;
    private final S3ProxyServer objectStore;
    private RegistryGateway gateway;
    private boolean started;

    private LocalStack(Builder b) {
        Path kafkaDir = b.dataDir == null ? null : b.dataDir.resolve("kafka");
        Path registryDir = b.dataDir == null ? null : b.dataDir.resolve("registry");
        BrokerSecurity security = null;
        if (b.secure) {
            try {
                security = BrokerSecurity.in(b.dataDir != null ? b.dataDir.resolve("secure")
                        : java.nio.file.Files.createTempDirectory("streamdistill-secure-"));
            } catch (java.io.IOException e) {
                throw new LocalStackException("cannot create a directory for the secure stack's certificates: " + e.getMessage(), e);
            }
        }
        int brokers = b.brokers == 1 ? KafkaCluster.nodesIn(kafkaDir) : b.brokers;
        if (b.brokers > 1 && kafkaDir != null && Files.exists(kafkaDir.resolve("meta.properties"))) {
            throw new IllegalArgumentException("the data directory " + b.dataDir + " holds a one-broker stack; start it with one broker, "
                    + "or use another data directory (demo: --fresh)");
        }
        if (brokers > 1 && (security != null || b.brokerPort != 0)) {
            throw new IllegalArgumentException("a stack of " + brokers + " brokers is plaintext on free ports: --secure and "
                    + "--kafka-port need one broker");
        }
        this.kafka = brokers > 1 ? KafkaCluster.of(kafkaDir, brokers)
                : EmbeddedKafka.builder().logDir(kafkaDir).brokerPort(b.brokerPort).security(security).build();
        // On a secure stack the requested registry port is the TLS gateway's; the registry itself listens on a free loopback port.
        this.registry = ApicurioRegistry.builder().dataDir(registryDir).persistent(b.dataDir != null)
                .port(b.secure ? 0 : b.registryPort).build();
        this.topics = List.copyOf(b.topics);
        this.gatewayPort = b.secure ? b.registryPort : 0;
        this.objectStore = b.objectStore ? S3ProxyServer.builder().dataDir(b.dataDir == null ? null : b.dataDir.resolve("s3")).build() : null;
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
            if (objectStore != null) {
                objectStore.start();
            }
            try (Admin admin = admin()) {
                if (!topics.isEmpty()) {
                    TopicSetup.ensureTopics(admin, topics, Duration.ofSeconds(60));
                }
                if (kafka.security() != null) {
                    BrokerAcls.apply(admin, Duration.ofSeconds(60));
                }
            }
            registry.awaitReady();
            if (kafka.security() != null) {
                gateway = RegistryGateway.start(gatewayPort, registry.baseUrl(), kafka.security());
            }
        } catch (RuntimeException e) {
            closeGateway();
            registry.stop();
            kafka.stop();
            if (objectStore != null) {
                objectStore.stop();
            }
            throw e;
        }
        started = true;
        LOG.info("local stack ready in {} ms: Kafka {}, registry {}", (System.nanoTime() - t0) / 1_000_000,
                kafka.bootstrapServers(), registry.confluentUrl());
        return this;
    }

    /** Stops the registry and the broker, keeping their data. Returns false if nothing was running. */
    public synchronized boolean stop() {
        closeGateway();
        boolean any = registry.stop() | kafka.stop() | (objectStore != null && objectStore.stop());
        started = false;
        return any;
    }

    /** Stops everything and deletes temporary data. Idempotent. */
    @Override
    public synchronized void close() {
        closeGateway();
        registry.close();
        kafka.close();
        if (objectStore != null) {
            objectStore.close();
        }
        started = false;
    }

    /** An admin client with full rights (on a secure stack: the broker's admin principal). */
    public Admin admin() {
        return Admin.create(kafka.adminSettings());
    }

    /** The secure stack's certificates and principals, or null when the stack is plaintext. */
    public BrokerSecurity security() {
        return kafka.security();
    }

    /**
     * Kafka client settings for a component's principal ({@link BrokerSecurity#TEACHER}, ...), without
     * the bootstrap servers: empty on a plaintext stack.
     */
    public Map<String, String> clientSettings(String principal) {
        return kafka.security() == null ? Map.of() : kafka.security().clientSettings(principal);
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** The Confluent-compatible registry URL, for {@code schema.registry.url} (https, through the gateway, on a secure stack). */
    public String registryUrl() {
        return gateway == null ? registry.confluentUrl() : "https://127.0.0.1:" + gateway.port() + ApicurioRegistry.CONFLUENT_API;
    }

    /**
     * Registry client settings for a component's principal on a secure stack (basic auth, the stack's CA
     * as truststore), without the URL: empty on a plaintext stack.
     */
    public Map<String, String> registrySettings(String principal) {
        BrokerSecurity s = kafka.security();
        if (s == null) {
            return Map.of();
        }
        return Map.of("basic.auth.credentials.source", "USER_INFO", "basic.auth.user.info", principal + ":" + s.password(principal),
                "schema.registry.ssl.truststore.location", s.truststore().toString(),
                "schema.registry.ssl.truststore.password", s.storePassword(), "schema.registry.ssl.truststore.type", "PKCS12");
    }

    private void closeGateway() {
        if (gateway != null) {
            gateway.close();
            gateway = null;
        }
    }

    public KafkaBrokers kafka() {
        return kafka;
    }

    /** The brokers as a cluster of child JVMs ({@code brokers(3)}), to kill and restart one. */
    public KafkaCluster kafkaCluster() {
        if (kafka instanceof KafkaCluster c) {
            return c;
        }
        throw new IllegalStateException("this stack has one in-process broker; build it with brokers(3) for a cluster");
    }

    public ApicurioRegistry registry() {
        return registry;
    }

    /** The S3-compatible object store, when the stack was built with {@code objectStore(true)}. */
    public S3ProxyServer objectStore() {
        if (objectStore == null) {
            throw new IllegalStateException("this stack has no object store; build it with objectStore(true)");
        }
        return objectStore;
    }

    public static final class Builder {
        private Path dataDir;
        private int brokerPort;
        private int registryPort;
        private final List<NewTopic> topics = new ArrayList<>();
        private boolean secure;
        private int brokers = 1;
        private boolean objectStore;

        /**
         * Also run an S3-compatible object store ({@link S3ProxyServer}, a child JVM, bucket
         * {@value S3ProxyServer#BUCKET}), its objects kept under the data directory's s3/.
         */
        public Builder objectStore(boolean on) {
            this.objectStore = on;
            return this;
        }

        /**
         * The number of Kafka brokers: 1 (default) in this JVM, or 3 or more, each its own JVM, with
         * every topic replicated to all and min.insync.replicas one less ({@link KafkaCluster}).
         */
        public Builder brokers(int n) {
            if (n != 1 && n < 3) {
                throw new IllegalArgumentException("brokers must be 1 or at least 3 (a quorum that survives a loss), got " + n);
            }
            this.brokers = n;
            return this;
        }

        /**
         * A secured broker: SASL_SSL with SCRAM-SHA-512 on the client port, a CA and broker certificate
         * made at the first start (kept under the data directory's secure/), one principal per component
         * and ACLs that give each only what it needs ({@link BrokerAcls}).
         */
        public Builder secure(boolean on) {
            this.secure = on;
            return this;
        }

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
