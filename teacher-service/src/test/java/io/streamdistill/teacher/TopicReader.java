package io.streamdistill.teacher;

import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads what the teacher published on the shared stack, read_committed, as the teacher-service tests check it. */
public final class TopicReader {

    /**
     * Every record of {@code topic} until {@code expected} came (or {@code wait} passed), then a moment more, so that
     * anything published beyond what was expected is seen too.
     */
    public static <T> List<T> readCommitted(String topic, Function<byte[], T> decode, int expected, Duration wait, Duration settle) {
        Map<String, Object> c = Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "verify-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<T> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + wait.toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    out.add(decode.apply(r.value()));
                }
            }
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settle.toMillis());
            while (System.nanoTime() < end) {
                consumer.poll(Duration.ofMillis(100)).forEach(r -> out.add(decode.apply(r.value())));
            }
        }
        return out;
    }

    public static List<SoftTarget> softTargets(SchemaRegistryClient registry, String topic, int expected, Duration wait, Duration settle) {
        AvroDeserializer<SoftTarget> d = new AvroDeserializer<>(registry, SoftTarget.class);
        return readCommitted(topic, v -> d.deserialize(topic, v), expected, wait, settle);
    }

    public static List<DeadLetter> deadLetters(SchemaRegistryClient registry, String topic, int expected, Duration wait, Duration settle) {
        AvroDeserializer<DeadLetter> d = new AvroDeserializer<>(registry, DeadLetter.class);
        return readCommitted(topic, v -> d.deserialize(topic, v), expected, wait, settle);
    }

    private TopicReader() {
    }
}
