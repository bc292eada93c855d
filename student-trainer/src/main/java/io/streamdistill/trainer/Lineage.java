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
 * was trained on since it began (holdout records excluded), and which records by id (a count and
 * {@link TrainedIdsDigest}'s sum). Published with each version. Pieces of one student trained
 * apart (replicas, sync rounds, the time before a rescale) add up with {@link #addAll}: each record
 * must be in exactly one piece, as it is in exactly one training step.
 */
final class Lineage {
    private final Map<String, long[]> ranges = new TreeMap<>();
    private long count;
    private long idSum;
    /** False when part of this history was read from a state written before ids were kept. */
    private boolean idsKnown = true;

    void add(String topic, int partition, long offset, String id) {
        long[] range = ranges.computeIfAbsent(topic + "\u0000" + partition, k -> new long[] {offset, offset});
        range[0] = Math.min(range[0], offset);
        range[1] = Math.max(range[1], offset);
        count++;
        idSum += TrainedIdsDigest.hash(id);
    }

    /** Adds {@code other}'s records: widens the ranges to cover its ranges, and adds its ids. */
    void addAll(Lineage other) {
        other.ranges.forEach((k, r) -> ranges.merge(k, r.clone(), (a, b) -> new long[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])}));
        count += other.count;
        idSum += other.idSum;
        idsKnown &= other.idsKnown;
    }

    /** The record's {@code trainedIds}, or null when part of the history predates it. */
    io.streamdistill.records.TrainedIds trainedIds() {
        return idsKnown ? io.streamdistill.records.TrainedIds.newBuilder().setCount(count).setDigest(TrainedIdsDigest.hex(idSum)).build()
                : null;
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

    /** The ranges, then the ids; a negative range count marks the ids (states written before them have none). */
    void write(DataOutputStream out) throws IOException {
        out.writeInt(-1 - ranges.size());
        for (Map.Entry<String, long[]> e : ranges.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeLong(e.getValue()[0]);
            out.writeLong(e.getValue()[1]);
        }
        out.writeBoolean(idsKnown);
        out.writeLong(count);
        out.writeLong(idSum);
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
        boolean withIds = n < 0;
        n = withIds ? -1 - n : n;
        for (int i = 0; i < n; i++) {
            ranges.put(in.readUTF(), new long[] {in.readLong(), in.readLong()});
        }
        if (withIds) {
            idsKnown = in.readBoolean();
            count = in.readLong();
            idSum = in.readLong();
        } else {
            idsKnown = false;
            count = 0;
            idSum = 0;
        }
    }
}
