package io.streamdistill.trainer;

/** A training subtask's move in one sync round, on its way to the merger (a Flink POJO). */
public class DeltaRecord {
    public long round;
    public int subtask;
    /** The {@code ModelDelta}, as it writes itself. */
    public byte[] delta;
    /** The lineage of the records behind it, as {@link Lineage#write} writes it. */
    public byte[] lineage;
    public long records;
    /** The newest merged round this subtask had adopted when it sent this (files of rounds up to the smallest can go). */
    public long adoptedThrough;

    public DeltaRecord() {
    }
}
