package io.streamdistill.cli;

import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.Topics;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Follows distill.checkpoints (read_committed) and keeps every published checkpoint. */
final class CheckpointWatcher {
    final AtomicReference<StudentCheckpoint> last = new AtomicReference<>();
    final List<StudentCheckpoint> all = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    /** @param kafka client settings (bootstrap servers and, on a secure stack, a principal that may read checkpoints) */
    CheckpointWatcher(Map<String, Object> kafka, SchemaRegistryClient registry) {
        AvroDeserializer<StudentCheckpoint> d = new AvroDeserializer<>(registry, StudentCheckpoint.class);
        thread = new Thread(() -> {
            Map<String, Object> config = new java.util.HashMap<>(kafka);
            // A group of serve's (the secure stack's ACLs give serve the groups starting streamdistill-serve).
            config.putAll(Map.of("group.id", "streamdistill-serve-demo-watch-" + System.nanoTime(), "auto.offset.reset", "latest",
                    "isolation.level", "read_committed"));
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                c.subscribe(List.of(Topics.CHECKPOINTS));
                while (running) {
                    c.poll(Duration.ofMillis(200)).forEach(r -> {
                        StudentCheckpoint cp = d.deserialize(r.topic(), r.value());
                        all.add(cp);
                        last.set(cp);
                    });
                }
            }
        }, "demo-checkpoint-watcher");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void stop() throws InterruptedException {
        running = false;
        thread.join(5000);
    }
}
