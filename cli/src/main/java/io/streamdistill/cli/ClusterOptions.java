package io.streamdistill.cli;

import io.streamdistill.localstack.BrokerSecurity;
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

    @Option(names = "--client", description = "a Kafka, registry or object-store client setting passed through, e.g. "
            + "kafka.security.protocol=SASL_SSL, basic.auth.user.info=user:password or s3.endpoint=http://host:9000; repeatable "
            + "(put secrets in --client-config, not on the command line)")
    Map<String, String> client = new LinkedHashMap<>();

    @Option(names = "--client-config", description = "a properties file of such client settings (kafka.*, basic.auth.*, "
            + "schema.registry.ssl.*, s3.*), e.g. one `streamdistill local-stack --secure` wrote for a principal; --client wins")
    Path clientConfig;

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
        Map<String, String> settings = new LinkedHashMap<>();
        if (clientConfig != null) {
            settings.putAll(readClientConfig(clientConfig));
        }
        settings.putAll(client);
        if (dataDir != null) {
            if (bootstrapServers != null || registryUrl != null) {
                throw new IllegalArgumentException("give either --data-dir or --bootstrap-servers/--registry-url, not both");
            }
            Path state = dataDir.resolve("stack");
            if (!Files.isDirectory(state)) {
                throw new IllegalArgumentException("--data-dir " + dataDir + " holds no demo state (no " + state
                        + "): run `streamdistill demo --data-dir " + dataDir + "` first");
            }
            // A demo run with --secure left its certificates and principals there: the stack comes back secured.
            boolean secure = Files.isRegularFile(state.resolve("secure").resolve("credentials.properties"));
            // A demo run with --object-store left its objects there: the store comes back too, and its settings go to the command.
            boolean objects = Files.isDirectory(state.resolve("s3"));
            System.err.println("starting the embedded Kafka and registry" + (objects ? " and object store" : "") + " on "
                    + state.toAbsolutePath() + (secure ? " (secure)" : "") + " ...");
            LocalStack stack = LocalStack.builder().dataDir(state).secure(secure).objectStore(objects).topics(Topics.ALL, 1).build().start();
            Map<String, String> own = new LinkedHashMap<>(LocalStackCommand.clientFile(stack, BrokerSecurity.ADMIN));
            if (objects) {
                own.putAll(stack.objectStore().clientSettings());
            }
            own.putAll(settings); // what the command line gives wins over the stack's admin principal
            own.put("bootstrap.servers", stack.bootstrapServers());
            own.put("schema.registry.url", stack.registryUrl());
            return new Cluster(own, stack);
        }
        if (clientConfig != null) {
            // A client file may name the cluster too (local-stack writes bootstrap.servers and schema.registry.url into it).
            Map<String, String> file = readClientConfig(clientConfig);
            bootstrapServers = bootstrapServers != null ? bootstrapServers : file.get("bootstrap.servers");
            registryUrl = registryUrl != null ? registryUrl : file.get("schema.registry.url");
        }
        if (bootstrapServers == null || registryUrl == null) {
            throw new IllegalArgumentException("where is Kafka? give --data-dir DIR (a demo's), or --bootstrap-servers and "
                    + "--registry-url (or env STREAMDISTILL_BOOTSTRAP_SERVERS / STREAMDISTILL_REGISTRY_URL)");
        }
        settings.put("bootstrap.servers", bootstrapServers);
        settings.put("schema.registry.url", registryUrl);
        Cluster c = new Cluster(settings, null);
        io.streamdistill.schemas.KafkaAccess.check(c.kafka(), "--client kafka.", java.time.Duration.ofSeconds(30));
        return c;
    }

    /** key=value lines (java.util.Properties); an unreadable file is refused naming it. */
    static Map<String, String> readClientConfig(Path file) {
        java.util.Properties p = new java.util.Properties();
        try (java.io.Reader r = Files.newBufferedReader(file, java.nio.charset.StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read --client-config " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> m = new LinkedHashMap<>();
        p.stringPropertyNames().stream().sorted().forEach(k -> m.put(k, p.getProperty(k)));
        return m;
    }
}
