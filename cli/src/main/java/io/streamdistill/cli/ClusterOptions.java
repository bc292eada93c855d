package io.streamdistill.cli;

import io.streamdistill.localstack.LocalStack;
import io.streamdistill.schemas.ClientSettings;
import io.streamdistill.schemas.Topics;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Where a command (produce, inspect, replay, reteach, serve, finetune) finds Kafka and the registry: the embedded stack a demo
 * left in {@code --data-dir}, restarted on that state, or an external cluster.
 */
public final class ClusterOptions {
    @Option(names = "--data-dir", description = "use what a demo left in this directory: restarts its embedded Kafka and "
            + "registry on that state (instead of --bootstrap-servers / --registry-url)")
    Path dataDir;

    @Option(names = "--bootstrap-servers", defaultValue = "${env:STREAMDISTILL_BOOTSTRAP_SERVERS}",
            description = "Kafka brokers (env STREAMDISTILL_BOOTSTRAP_SERVERS)")
    String bootstrapServers;

    @Option(names = "--registry-url", defaultValue = "${env:STREAMDISTILL_REGISTRY_URL}",
            description = "schema registry URL (env STREAMDISTILL_REGISTRY_URL)")
    String registryUrl;

    @Option(names = "--client", description = "a Kafka or registry client setting passed through, e.g. "
            + "kafka.security.protocol=SASL_SSL or basic.auth.user.info=user:password; repeatable")
    Map<String, String> client = new LinkedHashMap<>();

    /** A running cluster: its client settings, and the embedded stack to stop afterwards (if one was started). */
    record Cluster(Map<String, String> settings, LocalStack stack) implements AutoCloseable {
        String bootstrapServers() {
            return settings.get("bootstrap.servers");
        }

        String registryUrl() {
            return settings.get("schema.registry.url");
        }

        /** Kafka client settings: bootstrap servers and every kafka.* pass-through without its prefix. */
        Map<String, Object> kafka() {
            Map<String, Object> m = new java.util.HashMap<>(ClientSettings.kafka(settings));
            m.put("bootstrap.servers", bootstrapServers());
            return m;
        }

        SchemaRegistryClient registry() {
            return new SchemaRegistryClient(RegistryConfig.fromMap(ClientSettings.registry(settings)));
        }

        @Override
        public void close() {
            if (stack != null) {
                stack.close();
            }
        }
    }

    Cluster open() {
        Map<String, String> settings = new LinkedHashMap<>(client);
        if (dataDir != null) {
            if (bootstrapServers != null || registryUrl != null) {
                throw new IllegalArgumentException("give either --data-dir or --bootstrap-servers/--registry-url, not both");
            }
            Path state = dataDir.resolve("stack");
            if (!Files.isDirectory(state)) {
                throw new IllegalArgumentException("--data-dir " + dataDir + " holds no demo state (no " + state
                        + "): run `streamdistill demo --data-dir " + dataDir + "` first");
            }
            System.err.println("starting the embedded Kafka and registry on " + state.toAbsolutePath() + " ...");
            LocalStack stack = LocalStack.builder().dataDir(state).topics(Topics.ALL, 1).build().start();
            settings.put("bootstrap.servers", stack.bootstrapServers());
            settings.put("schema.registry.url", stack.registryUrl());
            return new Cluster(settings, stack);
        }
        if (bootstrapServers == null || registryUrl == null) {
            throw new IllegalArgumentException("where is Kafka? give --data-dir DIR (a demo's), or --bootstrap-servers and "
                    + "--registry-url (or env STREAMDISTILL_BOOTSTRAP_SERVERS / STREAMDISTILL_REGISTRY_URL)");
        }
        settings.put("bootstrap.servers", bootstrapServers);
        settings.put("schema.registry.url", registryUrl);
        return new Cluster(settings, null);
    }
}
