package io.streamdistill.cli;

import picocli.CommandLine.Option;

/** Where the Kafka brokers and the schema registry are (a demo prints both when it starts). */
public final class KafkaOptions {
    @Option(names = "--bootstrap-servers", required = true, defaultValue = "${env:STREAMDISTILL_BOOTSTRAP_SERVERS}",
            description = "Kafka brokers, host:port[,host:port] (env STREAMDISTILL_BOOTSTRAP_SERVERS)")
    String bootstrapServers;

    @Option(names = "--registry-url", required = true, defaultValue = "${env:STREAMDISTILL_REGISTRY_URL}",
            description = "Confluent-compatible schema registry URL (env STREAMDISTILL_REGISTRY_URL)")
    String registryUrl;
}
