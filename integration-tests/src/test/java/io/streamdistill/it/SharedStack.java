package io.streamdistill.it;

import io.streamdistill.localstack.LocalStack;
import io.streamdistill.localstack.TopicSetup;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * The one embedded cluster (KRaft broker + Apicurio Registry) that every integration test in this
 * JVM shares: started on first use, closed when the JVM exits. Tests stay apart by using their
 * own topics ({@link #newTopic}).
 */
final class SharedStack {
    private static LocalStack stack;
    private static final AtomicInteger TOPICS = new AtomicInteger();

    static synchronized LocalStack get() {
        if (stack == null) {
            long t0 = System.nanoTime();
            stack = LocalStack.builder().build().start();
            System.out.printf("shared local stack started in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            Runtime.getRuntime().addShutdownHook(new Thread(stack::close, "shared-stack-close"));
        }
        return stack;
    }

    /** Creates a fresh topic for one test and waits until its partitions have leaders. */
    static String newTopic(String prefix, int partitions) {
        String name = prefix + "-" + TOPICS.incrementAndGet();
        try (Admin admin = get().admin()) {
            TopicSetup.ensureTopics(admin, List.of(new NewTopic(name, Optional.of(partitions), Optional.empty())),
                    Duration.ofSeconds(30));
        }
        return name;
    }

    static SchemaRegistryClient registryClient() {
        return new SchemaRegistryClient(RegistryConfig.builder(get().registryUrl()).build());
    }

    static Map<String, Object> registryConfig() {
        return Map.of(RegistryConfig.URL, get().registryUrl());
    }

    private SharedStack() {
    }
}
