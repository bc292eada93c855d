package io.streamdistill.localstack;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * One local stack per JVM, started on first use and closed when the JVM exits: the shared
 * embedded cluster of a test suite. Users stay apart by creating their own topics with
 * {@link #newTopic}.
 */
public final class SharedLocalStack {
    private static LocalStack stack;
    private static final AtomicInteger TOPICS = new AtomicInteger();

    public static synchronized LocalStack get() {
        if (stack == null) {
            stack = LocalStack.builder().build().start();
            Runtime.getRuntime().addShutdownHook(new Thread(stack::close, "shared-local-stack-close"));
        }
        return stack;
    }

    /** Creates a fresh, uniquely named topic and waits until its partitions have leaders. */
    public static String newTopic(String prefix, int partitions) {
        String name = prefix + "-" + TOPICS.incrementAndGet();
        try (Admin admin = get().admin()) {
            TopicSetup.ensureTopics(admin, List.of(new NewTopic(name, Optional.of(partitions), Optional.empty())),
                    Duration.ofSeconds(30));
        }
        return name;
    }

    private SharedLocalStack() {
    }
}
