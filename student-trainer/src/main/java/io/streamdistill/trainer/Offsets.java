package io.streamdistill.trainer;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;

/** Parses the trainer's start and end positions. */
final class Offsets {
    /**
     * {@code committed} (falling back to earliest), {@code earliest}, {@code latest},
     * {@code timestamp:<epoch-ms>}, or {@code offsets:<partition>:<offset>,...} (every partition of {@code topic} listed).
     */
    static OffsetsInitializer parseStart(String s, String topic) {
        String v = s.trim().toLowerCase();
        if (v.startsWith("offsets:")) {
            return OffsetsInitializer.offsets(partitionOffsets(v, topic, "starting.offsets"));
        }
        if (v.equals("committed")) {
            return OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        }
        if (v.equals("earliest")) {
            return OffsetsInitializer.earliest();
        }
        if (v.equals("latest")) {
            return OffsetsInitializer.latest();
        }
        if (v.startsWith("timestamp:")) {
            return OffsetsInitializer.timestamp(millis(v, "starting.offsets"));
        }
        throw new IllegalArgumentException("starting.offsets must be committed, earliest, latest, timestamp:<epoch-ms> or "
                + "offsets:<partition>:<offset>,..., got '" + s + "'");
    }

    /**
     * {@code none} (run forever), {@code latest} (what the topic holds at start), {@code timestamp:<epoch-ms>},
     * or {@code offsets:<partition>:<offset>,...} (exclusive ends); null = unbounded.
     */
    static OffsetsInitializer parseEnd(String s, String topic) {
        String v = s.trim().toLowerCase();
        if (v.startsWith("offsets:")) {
            return OffsetsInitializer.offsets(partitionOffsets(v, topic, "bounded.end"));
        }
        if (v.equals("none")) {
            return null;
        }
        if (v.equals("latest")) {
            return OffsetsInitializer.latest();
        }
        if (v.startsWith("timestamp:")) {
            return OffsetsInitializer.timestamp(millis(v, "bounded.end"));
        }
        throw new IllegalArgumentException("bounded.end must be none, latest, timestamp:<epoch-ms> or "
                + "offsets:<partition>:<offset>,..., got '" + s + "'");
    }

    private static Map<TopicPartition, Long> partitionOffsets(String v, String topic, String key) {
        Map<TopicPartition, Long> offsets = new HashMap<>();
        for (String part : v.substring("offsets:".length()).split(",")) {
            String[] po = part.trim().split(":");
            try {
                if (po.length != 2 || Long.parseLong(po[1]) < 0) {
                    throw new NumberFormatException();
                }
                offsets.put(new TopicPartition(topic, Integer.parseInt(po[0])), Long.parseLong(po[1]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " entries are <partition>:<offset> with whole numbers >= 0, got '" + part + "'");
            }
        }
        return offsets;
    }

    private static long millis(String v, String key) {
        try {
            return Long.parseLong(v.substring("timestamp:".length()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " timestamp must be epoch milliseconds, got '" + v + "'");
        }
    }

    private Offsets() {
    }
}
