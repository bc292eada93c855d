package io.streamdistill.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Producer and consumer settings for the shared stack, and a bounded "read everything" helper. */
final class KafkaIO {
    static Map<String, Object> producerConfig(Class<?> valueSerializer) {
        Map<String, Object> c = new HashMap<>(SharedStack.registryConfig());
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedStack.get().bootstrapServers());
        c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, valueSerializer.getName());
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        return c;
    }

    static Map<String, Object> consumerConfig(Class<?> valueDeserializer, String isolation) {
        Map<String, Object> c = new HashMap<>(SharedStack.registryConfig());
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedStack.get().bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + System.nanoTime());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, valueDeserializer.getName());
        return c;
    }

    /**
     * Reads the topic from the start until {@code expected} records arrived or 30 s passed, then
     * polls half a second more, so that an unexpected extra record (a duplicate, a leaked abort)
     * shows up in the result.
     */
    static <V> List<ConsumerRecord<String, V>> readAll(String topic, Map<String, Object> config, int expected) {
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(config)) {
            return drain(consumer, topic, expected);
        }
    }

    /** Like {@link #readAll(String, Map, int)} with a deserializer instance. */
    static <V> List<ConsumerRecord<String, V>> readAll(String topic, Map<String, Object> config,
                                                       Deserializer<V> deserializer, int expected) {
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(config, new StringDeserializer(), deserializer)) {
            return drain(consumer, topic, expected);
        }
    }

    static List<ConsumerRecord<String, byte[]>> readRaw(String topic, int expected) {
        return readAll(topic, consumerConfig(ByteArrayDeserializer.class, "read_committed"), expected);
    }

    /** Everything committed on {@code topic} of any cluster, polling for {@code poll}. */
    static List<ConsumerRecord<byte[], byte[]>> readCommitted(String bootstrap, String topic, Duration poll) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "verify-" + System.nanoTime(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + poll.toNanos();
            while (System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    private static <V> List<ConsumerRecord<String, V>> drain(KafkaConsumer<String, V> consumer, String topic, int expected) {
        consumer.subscribe(List.of(topic));
        List<ConsumerRecord<String, V>> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (out.size() < expected && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        long settle = System.nanoTime() + Duration.ofMillis(500).toNanos();
        while (System.nanoTime() < settle) {
            consumer.poll(Duration.ofMillis(100)).forEach(out::add);
        }
        return out;
    }

    private KafkaIO() {
    }
}
