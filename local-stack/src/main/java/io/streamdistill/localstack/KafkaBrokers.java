package io.streamdistill.localstack;

import java.util.Map;

/** The local stack's Kafka: one in-process node ({@link EmbeddedKafka}) or a cluster of child JVMs ({@link KafkaCluster}). */
public interface KafkaBrokers extends AutoCloseable {
    /** Starts the broker(s); returns when clients can connect. */
    KafkaBrokers start();

    /** Stops, keeping data and ports for a later {@link #start()}; false if nothing was running. */
    boolean stop();

    @Override
    void close();

    boolean isRunning();

    /** {@code host:port[,host:port...]}. */
    String bootstrapServers();

    /** Client settings with full rights: bootstrap servers, and on a secured broker its admin principal. */
    Map<String, Object> adminSettings();

    /** The certificates and principals of a secured broker, or null for a plaintext one. */
    BrokerSecurity security();
}
