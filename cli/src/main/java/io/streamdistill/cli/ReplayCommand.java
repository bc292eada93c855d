package io.streamdistill.cli;

import io.streamdistill.localstack.LocalStack;
import io.streamdistill.schemas.Topics;
import io.streamdistill.trainer.replay.Replay;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code streamdistill replay}: re-trains a student over a slice of the soft-target topic with other
 * settings, on a local MiniCluster, and writes the experiment under {@code --out/--name}.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Re-train a student over a slice of the soft-target topic with other settings: an experiment "
                + "(files under OUT/NAME; never the production checkpoint topic).")
public final class ReplayCommand implements Callable<Integer> {
    @Option(names = "--from", required = true,
            description = "earliest | latest | an instant (2026-11-28T10:00:00Z or epoch ms) | partition:offset,... "
                    + "(partitions not named are not replayed)")
    String from;

    @Option(names = "--to", defaultValue = "latest",
            description = "latest | earliest | an instant | partition:offset,... (exclusive; partitions not named run to "
                    + "their end) (default: ${DEFAULT-VALUE})")
    String to;

    @Option(names = "--name", required = true, description = "the experiment's name (letters, digits, . _ -)")
    String name;

    @Option(names = "--set", description = "a trainer setting to change, key=value, repeatable "
            + "(e.g. training.temperature=4, student.embedding.dim=128, batch.size=64; see docs/student-trainer.md)")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--out", defaultValue = "experiments", description = "where experiments go (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--topic", defaultValue = Topics.SOFT_TARGETS, description = "the soft-target topic (default: ${DEFAULT-VALUE})")
    String topic;

    @Option(names = "--checkpoints-topic", defaultValue = Topics.CHECKPOINTS,
            description = "production checkpoints, read for class names, never written (default: ${DEFAULT-VALUE})")
    String checkpointsTopic;

    @Option(names = "--publish-to", description = "also publish the experiment's checkpoint records to this topic of its own")
    String publishTo;

    @Option(names = "--data-dir", description = "replay what a demo left in this directory: restarts its embedded Kafka "
            + "and registry on that state (instead of --bootstrap-servers / --registry-url)")
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

    @Override
    public Integer call() throws Exception {
        if (dataDir != null) {
            if (bootstrapServers != null || registryUrl != null) {
                throw new IllegalArgumentException("give either --data-dir or --bootstrap-servers/--registry-url, not both");
            }
            Path state = dataDir.resolve("stack");
            if (!Files.isDirectory(state)) {
                throw new IllegalArgumentException("--data-dir " + dataDir + " holds no demo state (no " + state
                        + "): run `streamdistill demo --data-dir " + dataDir + "` first");
            }
            System.out.println("starting the embedded Kafka and registry on " + state.toAbsolutePath() + " ...");
            try (LocalStack stack = LocalStack.builder().dataDir(state).topics(Topics.ALL, 1).build().start()) {
                return replay(stack.bootstrapServers(), stack.registryUrl());
            }
        }
        if (bootstrapServers == null || registryUrl == null) {
            throw new IllegalArgumentException("where is Kafka? give --data-dir DIR (a demo's), or --bootstrap-servers and "
                    + "--registry-url (or env STREAMDISTILL_BOOTSTRAP_SERVERS / STREAMDISTILL_REGISTRY_URL)");
        }
        return replay(bootstrapServers, registryUrl);
    }

    private int replay(String bootstrap, String registry) throws Exception {
        Map<String, String> base = new LinkedHashMap<>(client);
        base.put("bootstrap.servers", bootstrap);
        base.put("schema.registry.url", registry);
        Replay.Result r = Replay.run(new Replay.Spec(name, base, overrides, topic, from, to, out, checkpointsTopic, publishTo),
                System.out::println);
        if (r.last() == null) {
            System.out.println("replay " + name + ": no version was exported (too few records for the gate?); see "
                    + r.dir().resolve("experiment.json"));
            return 1;
        }
        System.out.printf("replay %s: %d versions in %.1f s; final version %d, %s; wrote %s%n", name, r.versions().size(),
                r.seconds(), r.last().getVersion(), r.last().getMetrics(), r.dir().toAbsolutePath());
        return 0;
    }
}
