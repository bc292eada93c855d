package io.streamdistill.cli;

import io.streamdistill.flinkcluster.FlinkCluster;
import io.streamdistill.localstack.BrokerSecurity;
import io.streamdistill.localstack.LocalStack;
import io.streamdistill.schemas.Topics;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code streamdistill local-stack [--secure] [--flink-cluster N]}: the embedded Kafka broker and
 * registry on their own, and optionally a Flink session cluster of child JVMs, until Ctrl-C. With {@code --secure}: SASL_SSL with one SCRAM principal per component, ACLs, and the
 * registry over TLS with basic auth; a client settings file per principal is written for
 * {@code --client-config} (and {@code teacher --config}, {@code train}).
 */
@Command(name = "local-stack", mixinStandardHelpOptions = true,
        description = "Run the embedded Kafka and registry (optionally secured: SASL_SSL, ACLs, TLS registry) and optionally a "
                + "Flink session cluster of separate JVMs, until Ctrl-C.")
public final class LocalStackCommand implements Callable<Integer> {
    @Option(names = "--data-dir", defaultValue = "streamdistill-data/stack", description = "broker and registry state (default: ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--secure", description = "SASL_SSL (SCRAM-SHA-512) with a principal per component, ACLs, the registry over TLS with basic auth")
    boolean secure;

    @Option(names = "--kafka-port", defaultValue = "0", description = "broker port (default: any free port)")
    int kafkaPort;

    @Option(names = "--registry-port", defaultValue = "0", description = "registry port (default: any free port)")
    int registryPort;

    @Option(names = "--brokers", defaultValue = "1", description = "Kafka brokers: 1 in this JVM (default), or 3 or more, each its "
            + "own JVM, every topic replicated to all with min.insync.replicas one less")
    int brokers;

    @Option(names = "--flink-cluster", paramLabel = "N", defaultValue = "0", description = "also a Flink 2.2 session cluster: a "
            + "JobManager (REST API and web UI) and N TaskManagers, each its own JVM, for train --flink-cluster (default: none)")
    int flinkTaskManagers;

    @Option(names = "--flink-slots", defaultValue = "1", description = "task slots per TaskManager (default: ${DEFAULT-VALUE})")
    int flinkSlots;

    @Option(names = "--object-store", description = "also an S3-compatible object store (S3Proxy, its own JVM, objects under "
            + "--data-dir's s3/): its settings (s3.endpoint, s3.access-key, s3.secret-key, s3.path.style.access) are written to "
            + "s3/client.properties for --client-config, never printed")
    boolean objectStore;

    @Override
    public Integer call() throws Exception {
        if (flinkTaskManagers < 0 || flinkSlots < 1) {
            throw new IllegalArgumentException("--flink-cluster must be >= 0 and --flink-slots >= 1, got " + flinkTaskManagers + " and "
                    + flinkSlots);
        }
        try (LocalStack stack = LocalStack.builder().dataDir(dataDir).secure(secure).brokerPort(kafkaPort).registryPort(registryPort)
                .brokers(brokers).objectStore(objectStore).topics(Topics.ALL, 1).build().start();
             FlinkCluster flink = flinkTaskManagers == 0 ? null
                     : TrainerRuntime.startCluster(dataDir.resolve("flink").toAbsolutePath(), flinkTaskManagers, flinkSlots)) {
            System.out.println("Kafka:    " + stack.bootstrapServers() + (secure ? " (SASL_SSL, SCRAM-SHA-512)" : "")
                    + (brokers > 1 ? " (" + brokers + " broker JVMs, replication factor " + brokers + ")" : ""));
            System.out.println("registry: " + stack.registryUrl());
            if (objectStore) {
                Path f = dataDir.resolve("s3").resolve("client.properties");
                Map<String, String> settings = new LinkedHashMap<>(Map.of("bootstrap.servers", stack.bootstrapServers(),
                        "schema.registry.url", stack.registryUrl()));
                settings.putAll(stack.objectStore().clientSettings());
                write(f, settings);
                System.out.println("objects:  " + stack.objectStore().endpoint() + ", bucket " + stack.objectStore().uri("")
                        + " (S3Proxy); settings in " + f.toAbsolutePath() + ", e.g. train --artifact.dir=" + stack.objectStore().uri("artifacts")
                        + " with its s3.* keys, serve --client-config " + f.toAbsolutePath());
            }
            if (flink != null) {
                System.out.println("Flink:    " + flink.restUrl() + " (REST API and web UI; " + flinkTaskManagers + " TaskManager(s) of "
                        + flinkSlots + " slot(s); logs in " + flink.sharedDir().resolve("log") + ")");
                System.out.println("  e.g. streamdistill train --flink-cluster " + flink.restAddress() + " --bootstrap.servers="
                        + stack.bootstrapServers() + " --schema.registry.url=" + stack.registryUrl() + " --student.classes=a,b"
                        + " --checkpoint.dir=" + flink.sharedDir().resolve("checkpoints").toUri());
            }
            if (secure) {
                Path dir = dataDir.resolve("secure").resolve("clients");
                Files.createDirectories(dir);
                for (String principal : BrokerSecurity.PRINCIPALS) {
                    Path f = dir.resolve(principal + ".properties");
                    write(f, clientFile(stack, principal));
                    System.out.println("  " + principal + ": " + f.toAbsolutePath());
                }
                System.out.println("e.g. streamdistill produce texts.txt --client-config " + dir.resolve("producer.properties").toAbsolutePath());
            }
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "local-stack-stop"));
            System.out.println("running until Ctrl-C");
            stop.await();
        }
        return 0;
    }

    /** A principal's settings, as the components take them: addresses, kafka.* and the registry client's (empty extras on a plaintext stack). */
    static Map<String, String> clientFile(LocalStack stack, String principal) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("bootstrap.servers", stack.bootstrapServers());
        m.put("schema.registry.url", stack.registryUrl());
        stack.clientSettings(principal).forEach((k, v) -> m.put("kafka." + k, v));
        m.putAll(stack.registrySettings(principal));
        return m;
    }

    private static void write(Path f, Map<String, String> settings) throws IOException {
        java.util.Properties p = new java.util.Properties();
        settings.forEach(p::setProperty);
        try (Writer w = Files.newBufferedWriter(f, StandardCharsets.UTF_8)) {
            p.store(w, "written by streamdistill local-stack: test credentials of this stack, never to be committed");
        }
        try {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException notPosix) {
            // The data directory's own protection applies.
        }
    }
}
