package io.streamdistill.trainer;

import io.streamdistill.records.SourceRange;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a student trained on: the first and last offset per topic partition, over every record it
 * was trained on since it began (holdout records excluded). Published with each version.
 */
final class Lineage {
    private final Map<String, long[]> ranges = new TreeMap<>();

    void add(String topic, int partition, long offset) {
        long[] range = ranges.computeIfAbsent(topic + "\u0000" + partition, k -> new long[] {offset, offset});
        range[0] = Math.min(range[0], offset);
        range[1] = Math.max(range[1], offset);
    }

    /** Widens these ranges to cover {@code other}'s (ranges of the same student trained in pieces). */
    void addAll(Lineage other) {
        other.ranges.forEach((k, r) -> ranges.merge(k, r.clone(), (a, b) -> new long[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])}));
    }

    boolean isEmpty() {
        return ranges.isEmpty();
    }

    List<SourceRange> sources() {
        List<SourceRange> sources = new ArrayList<>();
        ranges.forEach((k, range) -> sources.add(SourceRange.newBuilder().setTopic(k.substring(0, k.indexOf('\u0000')))
                .setPartition(Integer.parseInt(k.substring(k.indexOf('\u0000') + 1)))
                .setFirstOffset(range[0]).setLastOffset(range[1]).build()));
        return sources;
    }

    void write(DataOutputStream out) throws IOException {
        out.writeInt(ranges.size());
        for (Map.Entry<String, long[]> e : ranges.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeLong(e.getValue()[0]);
            out.writeLong(e.getValue()[1]);
        }
    }

    byte[] toBytes() throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        write(new DataOutputStream(bytes));
        return bytes.toByteArray();
    }

    static Lineage fromBytes(byte[] bytes) throws IOException {
        Lineage l = new Lineage();
        l.read(new DataInputStream(new java.io.ByteArrayInputStream(bytes)));
        return l;
    }

    void read(DataInputStream in) throws IOException {
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            ranges.put(in.readUTF(), new long[] {in.readLong(), in.readLong()});
        }
    }
}
