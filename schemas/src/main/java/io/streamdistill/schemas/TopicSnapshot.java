package io.streamdistill.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads what a topic holds now, read_committed, oldest first per partition, without a consumer group. */
public final class TopicSnapshot {

    /**
     * @param base    bootstrap.servers and pass-through client settings
     * @param decode  turns a record into a value, or null to leave it out
     * @param max     stop after this many values
     * @throws IllegalArgumentException when the topic does not exist
     */
    public static <T> List<T> read(Map<String, String> base, String topic, Function<ConsumerRecord<byte[], byte[]>, T> decode,
                                   int max, Duration timeout) {
        List<T> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer(base)) {
            List<PartitionInfo> partitions = c.partitionsFor(topic, Duration.ofSeconds(10));
            if (partitions == null || partitions.isEmpty()) {
                throw new IllegalArgumentException("topic '" + topic + "' does not exist on " + base.get("bootstrap.servers"));
            }
            List<TopicPartition> tps = partitions.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = c.endOffsets(tps);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < max && tps.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read topic '" + topic + "' to its end within " + timeout);
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(300))) {
                    T value = decode.apply(r);
                    if (value != null && out.size() < max) {
                        out.add(value);
                    }
                }
            }
        }
        return out;
    }

    /** Whether the cluster has {@code topic}. */
    public static boolean exists(Map<String, String> base, String topic) {
        try (KafkaConsumer<byte[], byte[]> c = consumer(base)) {
            return c.listTopics(Duration.ofSeconds(10)).containsKey(topic);
        }
    }

    public static KafkaConsumer<byte[], byte[]> consumer(Map<String, String> base) {
        Map<String, Object> c = new HashMap<>(ClientSettings.kafka(base));
        c.put("bootstrap.servers", base.get("bootstrap.servers"));
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private TopicSnapshot() {
    }
}
