package io.streamdistill.trainer;

import io.streamdistill.student.sync.ModelDelta;
import io.streamdistill.student.sync.Replica;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.TrainingConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one training subtask of a parallel job knows about the shared model, and how N of them are
 * folded back into one student when the job is restored at {@code train.parallelism=1}.
 *
 * <p>A subtask's parameters are the merged model as of round {@code adoptedThrough} plus its own
 * moves since ({@code pending}, one per checkpoint, all sent to the merger). At a checkpoint every
 * subtask has sent its move for that checkpoint's round, so the merged model at that checkpoint is
 * computable from the subtasks' states alone: take the one that adopted the most rounds, replace
 * each of its pending moves by the mean of all subtasks' moves of that round ({@link #consolidate}).
 */
final class ReplicaState {
    /**
     * Replica metadata formats count from 101, so that one reader tells them from the single trainer's
     * (1 and 2, see {@link TrainOperator}).
     */
    static final int FORMAT = 101;

    /** A move sent to the merger in a round of job run {@code run}, not yet merged back. */
    record Pending(String run, ModelDelta delta, Lineage lineage, long records) {
    }

    final int subtask;
    final int parallelism;
    /** The last merged round this subtask adopted (rounds are checkpoint ids). */
    long adoptedThrough;
    final TreeMap<Long, Pending> pending = new TreeMap<>();
    /** What the merged rounds adopted so far hold. */
    Lineage merged = new Lineage();
    long mergedRecords;
    long syncBytes;

    ReplicaState(int subtask, int parallelism, long adoptedThrough) {
        this.subtask = subtask;
        this.parallelism = parallelism;
        this.adoptedThrough = adoptedThrough;
    }

    static boolean isReplica(byte[] meta) {
        return meta.length >= 4 && java.nio.ByteBuffer.wrap(meta).getInt() == FORMAT;
    }

    /** Ranks restored partitions for {@link TrainerSnapshot#restore}: the subtask that adopted the most rounds first. */
    static long rank(byte[] meta) {
        if (!isReplica(meta)) {
            return 0;
        }
        return java.nio.ByteBuffer.wrap(meta).getLong(12);
    }

    /** Writes this state, then {@code tail} (the operator's own pieces: publisher, cadence, holdout). */
    byte[] toBytes(byte[] tail) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(FORMAT);
            out.writeInt(subtask);
            out.writeInt(parallelism);
            out.writeLong(adoptedThrough);
            out.writeInt(pending.size());
            for (Map.Entry<Long, Pending> e : pending.entrySet()) {
                out.writeLong(e.getKey());
                out.writeUTF(e.getValue().run());
                e.getValue().delta().write(out);
                e.getValue().lineage().write(out);
                out.writeLong(e.getValue().records());
            }
            out.writeLong(mergedRecords);
            out.writeLong(syncBytes);
            merged.write(out);
            out.writeInt(tail.length);
            out.write(tail);
        }
        return bytes.toByteArray();
    }

    /** A state {@link #toBytes} wrote, and the tail written with it. */
    record Read(ReplicaState state, byte[] tail) {
    }

    static Read read(byte[] meta) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(meta))) {
            int format = in.readInt();
            if (format != FORMAT) {
                throw new IOException("training subtask state format " + format + " is not supported (expected " + FORMAT + ")");
            }
            ReplicaState s = new ReplicaState(in.readInt(), in.readInt(), in.readLong());
            for (int i = in.readInt(); i > 0; i--) {
                long round = in.readLong();
                String run = in.readUTF();
                ModelDelta d = ModelDelta.read(in);
                Lineage l = new Lineage();
                l.read(in);
                s.pending.put(round, new Pending(run, d, l, in.readLong()));
            }
            s.mergedRecords = in.readLong();
            s.syncBytes = in.readLong();
            s.merged.read(in);
            byte[] tail = new byte[in.readInt()];
            in.readFully(tail);
            return new Read(s, tail);
        }
    }

    /** N subtasks' states folded into one student: the trainer, what it holds, and subtask 0's tail. */
    record Consolidated(Learner trainer, Lineage lineage, long records, byte[] exporterTail, int parallelism, int rounds) {
    }

    /**
     * Folds the states of all {@code parallelism} subtasks of one checkpoint into one model.
     * {@code trainer} is the trainer of {@code states.get(chosen)}, which must be one that adopted the
     * most rounds: every round it has pending is pending in all of them (none adopted it yet), so the
     * round's merged move is their mean, as the merger computes it.
     */
    static Consolidated consolidate(List<Read> states, int chosen, Learner trainer) {
        int n = states.get(0).state().parallelism;
        boolean[] seen = new boolean[n];
        for (Read r : states) {
            ReplicaState s = r.state();
            if (s.parallelism != n || s.subtask < 0 || s.subtask >= n || seen[s.subtask]) {
                throw new IllegalStateException("the restored checkpoint's training states do not belong together: subtask "
                        + s.subtask + " of " + s.parallelism + " beside states of " + n);
            }
            seen[s.subtask] = true;
        }
        if (states.size() != n) {
            throw new IllegalStateException("the restored checkpoint holds " + states.size() + " training states of "
                    + n + " subtasks: restoring at train.parallelism=1 needs all of them in one subtask");
        }
        ReplicaState base = states.get(chosen).state();
        for (Read r : states) {
            if (r.state().adoptedThrough > base.adoptedThrough) {
                throw new IllegalArgumentException("the chosen state must be one that adopted the most rounds");
            }
        }
        Replica replica = new Replica(trainer);
        Lineage lineage = new Lineage();
        lineage.addAll(base.merged);
        long records = base.mergedRecords;
        for (Map.Entry<Long, Pending> round : base.pending.entrySet()) {
            List<ModelDelta> moves = new ArrayList<>();
            for (Read r : states) {
                Pending p = r.state().pending.get(round.getKey());
                if (p == null) {
                    throw new IllegalStateException("training subtask " + r.state().subtask + " has no move for sync round "
                            + round.getKey() + ", which subtask " + base.subtask + " has pending");
                }
                moves.add(p.delta());
                lineage.addAll(p.lineage());
                records += p.records();
            }
            replica.adopt(ModelDelta.mean(moves), round.getValue().delta());
        }
        byte[] tail = states.stream().filter(r -> r.state().subtask == 0).findFirst().orElseThrow().tail();
        return new Consolidated(replica.trainer(), lineage, records, tail, n, base.pending.size());
    }

    /** The exporter's pieces (version and gate, records since the last version, holdout window) as a state's tail. */
    static byte[] exporterTail(Publisher publisher, ExportCadence cadence, HoldoutWindow holdout) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            publisher.write(out);
            out.writeLong(cadence.trainedSince());
            holdout.write(out);
        }
        return bytes.toByteArray();
    }

    /** Reads {@link #exporterTail}'s bytes back into the pieces given. */
    static void readExporterTail(byte[] tail, Publisher publisher, ExportCadence cadence, HoldoutWindow holdout) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(tail))) {
            publisher.read(in, 2);
            cadence.restore(in.readLong());
            holdout.read(in);
        }
    }

    /**
     * {@code training} with its learning rate times {@code factor}: replicas train at √N times the
     * single trainer's rate (docs/benchmarks.md), so a rescale from N to M multiplies it by √(M/N).
     */
    static TrainingConfig scaledLearningRate(TrainingConfig training, double factor) {
        Map<String, String> m = new LinkedHashMap<>(training.toMap());
        m.put("learningRate", Float.toString((float) (training.learningRate() * factor)));
        return TrainingConfig.fromMap(m);
    }
}
