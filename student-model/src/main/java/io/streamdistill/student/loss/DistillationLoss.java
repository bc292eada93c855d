package io.streamdistill.student.loss;

/**
 * The distillation losses and their gradients with respect to the student's outputs. Each method
 * returns the loss and writes dLoss/dOutput into {@code grad}; accumulation is in double.
 */
public final class DistillationLoss {

    /**
     * Classification: {@code alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(softmax(s), label)}
     * when the record has a label; without one the KL term carries the whole loss ({@code T^2 * KL}).
     * The T^2 factor keeps the gradient's scale independent of T (Hinton et al.).
     *
     * @param label the hard label's class index, or -1 when there is none
     * @param grad  receives dLoss/dStudentLogits (length K)
     */
    public static float classification(float[] student, float[] teacher, int label, float temperature, float alpha,
                                       float[] grad) {
        int k = student.length;
        if (teacher.length != k) {
            throw new IllegalArgumentException("the teacher has " + teacher.length + " logits, the student " + k);
        }
        double[] ps = softmax(student, temperature);
        double[] pt = softmax(teacher, temperature);
        double kl = 0;
        double lseS = logSumExp(student, temperature);
        double lseT = logSumExp(teacher, temperature);
        for (int i = 0; i < k; i++) {
            if (pt[i] > 0) {
                // log pt - log ps, from the log-softmax forms (no log of tiny probabilities).
                kl += pt[i] * ((teacher[i] / temperature - lseT) - (student[i] / temperature - lseS));
            }
        }
        boolean labelled = label >= 0;
        double wKl = labelled ? alpha : 1.0;
        double loss = wKl * temperature * temperature * kl;
        for (int i = 0; i < k; i++) {
            grad[i] = (float) (wKl * temperature * (ps[i] - pt[i]));
        }
        if (labelled) {
            if (label >= k) {
                throw new IllegalArgumentException("label index " + label + " is out of range for " + k + " classes");
            }
            double[] p1 = temperature == 1f ? ps : softmax(student, 1f);
            double lse1 = temperature == 1f ? lseS : logSumExp(student, 1f);
            loss += (1 - alpha) * (lse1 - student[label]);
            for (int i = 0; i < k; i++) {
                grad[i] += (float) ((1 - alpha) * (p1[i] - (i == label ? 1 : 0)));
            }
        }
        return (float) loss;
    }

    /** KL(softmax(t/T) || softmax(s/T)) alone, for evaluation. */
    public static float klDivergence(float[] student, float[] teacher, float temperature) {
        double[] pt = softmax(teacher, temperature);
        double lseS = logSumExp(student, temperature);
        double lseT = logSumExp(teacher, temperature);
        double kl = 0;
        for (int i = 0; i < student.length; i++) {
            if (pt[i] > 0) {
                kl += pt[i] * ((teacher[i] / temperature - lseT) - (student[i] / temperature - lseS));
            }
        }
        return (float) Math.max(0, kl);
    }

    /**
     * Embedding: {@code 1 - cos(y, t/|t|)} (COSINE) or {@code |y - t/|t||^2 / D} (MSE), where y is
     * the student's L2-normalised output.
     *
     * @param grad receives dLoss/dy (length D)
     */
    public static float embedding(float[] studentUnit, float[] teacher, EmbeddingLoss kind, float[] grad) {
        int d = studentUnit.length;
        if (teacher.length != d) {
            throw new IllegalArgumentException("the teacher's embedding has " + teacher.length + " dimensions, the student's " + d);
        }
        double norm = 0;
        for (float v : teacher) {
            norm += (double) v * v;
        }
        double inv = 1.0 / Math.max(Math.sqrt(norm), 1e-12);
        if (kind == EmbeddingLoss.COSINE) {
            double dot = 0;
            for (int i = 0; i < d; i++) {
                double t = teacher[i] * inv;
                dot += studentUnit[i] * t;
                grad[i] = (float) -t;
            }
            return (float) (1 - dot);
        }
        double sum = 0;
        for (int i = 0; i < d; i++) {
            double diff = studentUnit[i] - teacher[i] * inv;
            sum += diff * diff;
            grad[i] = (float) (2 * diff / d);
        }
        return (float) (sum / d);
    }

    /** Cosine similarity of two vectors (either may be unnormalised). */
    public static float cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return (float) (dot / Math.max(Math.sqrt(na * nb), 1e-24));
    }

    /**
     * Language model, one position: KL between the teacher's distribution over its top-k tokens
     * plus one bucket for all the other tokens (mass {@code 1 - sum p_k}, exact because the record
     * carries the row's log-sum-exp) and the student's distribution over the same k + 1 buckets.
     * Temperature 1: the residual mass at another temperature is not known from the record.
     *
     * @param studentLogits the student's logits over the whole vocabulary
     * @param topIds        the teacher's top-k token ids
     * @param topLogits     their logits
     * @param logSumExp     log-sum-exp of the teacher's whole row
     * @param grad          receives dLoss/dStudentLogits (vocabulary length)
     */
    public static float topK(float[] studentLogits, int[] topIds, float[] topLogits, float logSumExp, float[] grad) {
        int v = studentLogits.length;
        double lse = logSumExp(studentLogits, 1f);
        double[] q = new double[v];
        for (int j = 0; j < v; j++) {
            q[j] = Math.exp(studentLogits[j] - lse);
        }
        double[] teacherP = new double[v];
        boolean[] inTop = new boolean[v];
        double teacherTop = 0;
        double studentTop = 0;
        double loss = 0;
        for (int k = 0; k < topIds.length; k++) {
            int id = topIds[k];
            if (id < 0 || id >= v) {
                throw new IllegalArgumentException("top-k token id " + id + " is outside the student's vocabulary of " + v);
            }
            double logP = topLogits[k] - logSumExp;
            double p = Math.exp(logP);
            if (inTop[id]) {
                throw new IllegalArgumentException("top-k token id " + id + " appears twice");
            }
            inTop[id] = true;
            teacherP[id] = p;
            teacherTop += p;
            studentTop += q[id];
            loss += p * (logP - (studentLogits[id] - lse));
        }
        double residual = Math.max(0, 1 - teacherTop);
        double studentResidual = Math.max(1e-30, 1 - studentTop);
        if (residual > 0) {
            loss += residual * (Math.log(residual) - Math.log(studentResidual));
        }
        for (int j = 0; j < v; j++) {
            double g = q[j];
            if (inTop[j]) {
                g -= teacherP[j];
            } else {
                g -= residual * q[j] / studentResidual;
            }
            grad[j] = (float) g;
        }
        return (float) loss;
    }

    static double logSumExp(float[] x, float temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v / temperature);
        }
        double sum = 0;
        for (float v : x) {
            sum += Math.exp(v / temperature - max);
        }
        return max + Math.log(sum);
    }

    static double[] softmax(float[] x, float temperature) {
        double lse = logSumExp(x, temperature);
        double[] p = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            p[i] = Math.exp(x[i] / temperature - lse);
        }
        return p;
    }

    /** Class probabilities from logits (temperature 1), as the student's ONNX output gives them. */
    public static float[] probabilities(float[] logits) {
        double[] p = softmax(logits, 1f);
        float[] out = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = (float) p[i];
        }
        return out;
    }

    /** Index of the largest value (the first on ties). */
    public static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    private DistillationLoss() {
    }
}
