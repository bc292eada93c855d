package io.streamdistill.localstack;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a local stack as its own process, for tools that want the broker out of their JVM (a
 * benchmark that measures only its own CPU, a separate terminal):
 * {@code LocalStackMain [--data-dir DIR] [--partitions N] [topic ...]}. Prints
 * {@code BOOTSTRAP=host:port} and {@code REGISTRY=url} once ready, then runs until its stdin closes
 * (its parent went away) or it is sent SIGTERM, and shuts down cleanly either way.
 */
public final class LocalStackMain {
    public static void main(String[] args) throws Exception {
        Path dataDir = null;
        int partitions = 1;
        List<String> topics = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--data-dir" -> dataDir = Path.of(args[++i]);
                case "--partitions" -> partitions = Integer.parseInt(args[++i]);
                default -> topics.add(args[i]);
            }
        }
        LocalStack stack = LocalStack.builder().dataDir(dataDir).topics(topics, partitions).build().start();
        Runtime.getRuntime().addShutdownHook(new Thread(stack::close, "local-stack-close"));
        System.out.println("BOOTSTRAP=" + stack.bootstrapServers());
        System.out.println("REGISTRY=" + stack.registryUrl());
        System.out.flush();
        while (System.in.read() >= 0) {
            // Wait for end-of-file: the parent closed our stdin or died.
        }
        System.exit(0);
    }

    private LocalStackMain() {
    }
}
