package io.streamdistill.trainer;

import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.Learners;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.runtime.state.OperatorStateCheckpointOutputStream;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StatePartitionStreamProvider;
import org.apache.flink.runtime.state.StateSnapshotContext;

/**
 * Where a training subtask's state lives in a Flink checkpoint: one partition of raw operator state
 * holding its metadata (version, lineage, holdout window, pending sync moves) and then the trainer
 * (parameters and Adam's moments, ~75 MB for a 64k-bigram student).
 *
 * <p>Why raw state: Flink 2.2 moves managed operator state through {@code CompressibleFSDataOutputStream}
 * and its input twin, which have no bulk read or write, so a 75 MB byte array costs 75 million
 * {@code write(int)} calls into Snappy (1.1 s per checkpoint, profiled) or, uncompressed, as many
 * {@code read()} system calls on restore (11 s). Raw operator state is a plain buffered file stream.
 *
 * <p>Why the metadata sits in the same partition: when the job is restored at another
 * {@code train.parallelism}, Flink hands each new subtask some of the old partitions, and each must
 * say whose trainer it holds. States that earlier builds wrote (the trainer alone in raw state, the
 * metadata in the managed list "student-trainer-meta", or the trainer as managed chunks) still restore.
 */
final class TrainerSnapshot {
    private static final int BUFFER = 1 << 20;
    /** Opens a partition written by this build: "SDSP", then the metadata's length and bytes, then the trainer. */
    private static final int PARTITION_MAGIC = 0x53445350;

    /** The metadata of every restored partition, and the trainer of the one ranked highest. */
    record Restored(List<byte[]> metas, Learner trainer, int chosen) {
    }

    private final ListState<byte[]> legacyChunks;
    private final ListState<byte[]> legacyMeta;
    private final StateInitializationContext context;

    TrainerSnapshot(StateInitializationContext context) throws Exception {
        this.context = context;
        this.legacyChunks = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("student-trainer", BytePrimitiveArraySerializer.INSTANCE));
        this.legacyMeta = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("student-trainer-meta", BytePrimitiveArraySerializer.INSTANCE));
    }

    /**
     * The partitions this subtask was given, or null when it was given none. Only the trainer of the
     * partition whose metadata {@code rank} ranks highest (the first on ties) is read: a subtask
     * taking over N others' states needs one trainer, not N.
     */
    Restored restore(ToLongFunction<byte[]> rank) throws Exception {
        if (!context.isRestored()) {
            return null;
        }
        List<byte[]> metas = new ArrayList<>();
        Learner best = null;
        int chosen = -1;
        long bestRank = Long.MIN_VALUE;
        for (StatePartitionStreamProvider partition : context.getRawOperatorStateInputs()) {
            try (BufferedInputStream in = new BufferedInputStream(partition.getStream(), BUFFER)) {
                in.mark(8);
                DataInputStream data = new DataInputStream(in);
                if (data.readInt() != PARTITION_MAGIC) {
                    in.reset(); // an earlier build's partition: the trainer alone
                    best = Learners.readFrom(in);
                    chosen = metas.size();
                    metas.addAll(legacyMetas());
                    continue;
                }
                byte[] meta = new byte[data.readInt()];
                data.readFully(meta);
                long r = rank.applyAsLong(meta);
                if (best == null || r > bestRank) {
                    best = Learners.readFrom(in);
                    bestRank = r;
                    chosen = metas.size();
                }
                metas.add(meta);
            }
        }
        if (best != null) {
            return new Restored(metas, best, chosen);
        }
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] chunk : legacyChunks.get()) {
            all.write(chunk);
        }
        return all.size() == 0 ? null
                : new Restored(legacyMetas(), Learners.readFrom(new ByteArrayInputStream(all.toByteArray())), 0);
    }

    private List<byte[]> legacyMetas() throws Exception {
        List<byte[]> metas = new ArrayList<>();
        legacyMeta.get().forEach(metas::add);
        return metas;
    }

    void snapshot(StateSnapshotContext snapshot, Learner trainer, byte[] metadata) throws Exception {
        OperatorStateCheckpointOutputStream raw = snapshot.getRawOperatorStateOutput();
        raw.startNewPartition();
        BufferedOutputStream buffered = new BufferedOutputStream(raw, BUFFER);
        DataOutputStream out = new DataOutputStream(buffered);
        out.writeInt(PARTITION_MAGIC);
        out.writeInt(metadata.length);
        out.write(metadata);
        trainer.writeTo(buffered);
        buffered.flush(); // Flink closes the raw stream itself
        legacyChunks.clear();
        legacyMeta.clear();
    }
}
