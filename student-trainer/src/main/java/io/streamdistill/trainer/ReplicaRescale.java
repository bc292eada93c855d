package io.streamdistill.trainer;

import io.streamdistill.student.train.Learner;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A restore from a checkpoint of N &gt; 1 training subtasks at another M &gt; 1. Flink spreads the N
 * states over the M subtasks, so no subtask holds them all; the folded model ({@link
 * ReplicaState#consolidate}, as at N → 1) needs them all. Every subtask other than 0 leaves the
 * states it was given in the sync directory ({@link #leave}); subtask 0 reads them, folds all N
 * ({@link #fold}) and hands the result to the others through the handover file, as at 1 → M.
 */
final class ReplicaRescale {
    /** Subtask 0's result: the folded student at the new learning rate, and what it holds. */
    record Folded(Learner trainer, ReplicaState.Consolidated consolidated, long syncBytes, List<String> files) {
    }

    private ReplicaRescale() {
    }

    /** The states this subtask was given, for subtask 0 to read, with the trainer of the one ranked highest. */
    static void leave(SyncFiles files, String run, long checkpoint, TrainerSnapshot.Restored restored) throws IOException {
        for (int i = 0; i < restored.metas().size(); i++) {
            byte[] meta = restored.metas().get(i);
            files.writeRescaled(run, checkpoint, ReplicaState.read(meta).state().subtask, meta,
                    i == restored.chosen() ? restored.trainer() : null);
        }
    }

    /**
     * All {@code was} states, its own and those the others left, folded into one student whose
     * learning rate is scaled from √was to √parallelism.
     */
    static Folded fold(SyncFiles files, String run, long checkpoint, TrainerSnapshot.Restored restored, int was, int parallelism,
                       Duration wait) throws IOException, InterruptedException {
        Map<Integer, ReplicaState.Read> states = new TreeMap<>();
        Map<Integer, Learner> trainers = new TreeMap<>();
        for (int i = 0; i < restored.metas().size(); i++) {
            ReplicaState.Read read = ReplicaState.read(restored.metas().get(i));
            states.put(read.state().subtask, read);
            if (i == restored.chosen()) {
                trainers.put(read.state().subtask, restored.trainer());
            }
        }
        List<String> left = new ArrayList<>();
        for (int old = 0; old < was; old++) {
            if (!states.containsKey(old)) {
                states.put(old, ReplicaState.read(files.awaitRescaledMeta(run, checkpoint, old, wait)));
                left.add(files.rescaled(run, checkpoint, old, "meta").toUri().toString());
                left.add(files.rescaled(run, checkpoint, old, "trainer").toUri().toString());
            }
        }
        long most = states.values().stream().mapToLong(r -> r.state().adoptedThrough).max().orElseThrow();
        // The fold starts from a state that adopted the most rounds; each subtask left the trainer of its best one.
        int chosen = -1;
        Learner trainer = null;
        for (Map.Entry<Integer, ReplicaState.Read> e : states.entrySet()) {
            if (e.getValue().state().adoptedThrough == most) {
                trainer = trainers.containsKey(e.getKey()) ? trainers.get(e.getKey()) : files.rescaledTrainer(run, checkpoint, e.getKey());
                if (trainer != null) {
                    chosen = e.getKey();
                    break;
                }
            }
        }
        if (trainer == null) {
            throw new IllegalStateException("no trainer was left for a training state that adopted sync round " + most
                    + " (checkpoint " + checkpoint + ", " + was + " subtasks)");
        }
        List<ReplicaState.Read> all = new ArrayList<>(states.values()); // by old subtask, so index = subtask
        ReplicaState.Consolidated c = ReplicaState.consolidate(all, chosen, trainer);
        Learner folded = c.trainer().withTraining(
                ReplicaState.scaledLearningRate(c.trainer().training(), Math.sqrt((double) parallelism / was)));
        return new Folded(folded, c, states.get(chosen).state().syncBytes, left);
    }
}
