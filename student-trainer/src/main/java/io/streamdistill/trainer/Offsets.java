package io.streamdistill.trainer;

import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/** Parses the trainer's start and end positions. */
final class Offsets {
    /** {@code committed} (falling back to earliest), {@code earliest}, {@code latest}, or {@code timestamp:<epoch-ms>}. */
    static OffsetsInitializer parseStart(String s) {
        String v = s.trim().toLowerCase();
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
        throw new IllegalArgumentException("starting.offsets must be committed, earliest, latest or timestamp:<epoch-ms>, got '" + s + "'");
    }

    /** {@code none} (run forever), {@code latest} (what the topic holds at start), or {@code timestamp:<epoch-ms>}; null = unbounded. */
    static OffsetsInitializer parseEnd(String s) {
        String v = s.trim().toLowerCase();
        if (v.equals("none")) {
            return null;
        }
        if (v.equals("latest")) {
            return OffsetsInitializer.latest();
        }
        if (v.startsWith("timestamp:")) {
            return OffsetsInitializer.timestamp(millis(v, "bounded.end"));
        }
        throw new IllegalArgumentException("bounded.end must be none, latest or timestamp:<epoch-ms>, got '" + s + "'");
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
