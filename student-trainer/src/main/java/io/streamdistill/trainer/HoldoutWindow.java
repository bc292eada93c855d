package io.streamdistill.trainer;

import io.streamdistill.student.train.Evaluation;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Learner;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The most recent holdout examples (never trained on), kept as a ring. At export they are all
 * scored with the current model, so the gate judges the model being published, not older ones.
 */
final class HoldoutWindow {
    /** Mean agreement (top-1 or cosine), mean KL and how many examples. */
    record Score(double agreement, double kl, double accuracy, int count) {
    }

    private final Example[] ring;
    private int next;
    private int size;

    HoldoutWindow(int capacity) {
        this.ring = new Example[capacity];
    }

    void add(Example e) {
        ring[next] = e;
        next = (next + 1) % ring.length;
        size = Math.min(size + 1, ring.length);
    }

    int size() {
        return size;
    }

    Score score(Learner trainer) {
        double agreement = 0;
        double kl = 0;
        double correct = 0;
        int labelled = 0;
        for (int i = 0; i < size; i++) {
            Evaluation e = trainer.evaluate(ring[i]);
            agreement += e.agreement();
            kl += e.kl();
            if (!Float.isNaN(e.correct())) {
                correct += e.correct();
                labelled++;
            }
        }
        return size == 0 ? new Score(Double.NaN, Double.NaN, Double.NaN, 0)
                : new Score(agreement / size, kl / size, labelled == 0 ? Double.NaN : correct / labelled, size);
    }

    void write(DataOutputStream out) throws IOException {
        out.writeInt(size);
        for (int i = 0; i < size; i++) {
            Example e = ring[(next - size + i + ring.length) % ring.length];
            out.writeInt(e.tokenIds().length);
            for (int t : e.tokenIds()) {
                out.writeInt(t);
            }
            out.writeInt(e.teacher().length);
            for (float f : e.teacher()) {
                out.writeFloat(f);
            }
            out.writeInt(e.label());
        }
    }

    void read(DataInputStream in) throws IOException {
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            int[] ids = new int[in.readInt()];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = in.readInt();
            }
            float[] teacher = new float[in.readInt()];
            for (int f = 0; f < teacher.length; f++) {
                teacher[f] = in.readFloat();
            }
            add(new Example(ids, teacher, in.readInt()));
        }
    }
}
