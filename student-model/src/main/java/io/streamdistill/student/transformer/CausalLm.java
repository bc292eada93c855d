package io.streamdistill.student.transformer;

import io.streamdistill.student.math.Gemm;

/**
 * A causal language model in plain Java: the encoder's post-LayerNorm blocks under a causal mask, and a
 * language-model head tied to the word embeddings ({@code logits = hidden · Wordᵀ}, one row per vocabulary
 * entry, as GPT-2 ties them). Trained on next-token cross-entropy, distillation from a teacher's top-k
 * next-token logits with one tail bucket for the rest of its mass, or both:
 * {@code α · KD + (1 − α) · CE}, each a mean over the positions it covers. Forward and backward sit side by
 * side here and are checked against finite differences in the tests.
 */
public final class CausalLm {
    private final Encoder encoder;
    private final EncoderParams params;
    private final Gemm gemm;

    public CausalLm(EncoderParams params, Gemm gemm) {
        this.params = params;
        this.gemm = gemm;
        this.encoder = new Encoder(params, gemm, true);
    }

    public EncoderSpec spec() {
        return params.spec();
    }

    public EncoderParams params() {
        return params;
    }

    /**
     * A teacher's next-token distribution at each position of one sequence, as the soft-target record carries it:
     * the top {@code k} token ids and their logits, and the log-sum-exp of the full row (so the mass outside the
     * top k, the tail, is known). Row-major: position t's entries at {@code t·k .. t·k + k}.
     */
    public record TopK(int k, int[] ids, float[] logits, float[] logSumExp) {
        public TopK {
            if (k < 1 || ids.length != logits.length || ids.length != k * logSumExp.length) {
                throw new IllegalArgumentException("top-k targets: k " + k + ", " + ids.length + " ids, " + logits.length + " logits, "
                        + logSumExp.length + " positions");
            }
        }

        int positions() {
            return logSumExp.length;
        }

        /**
         * A teacher's targets from its next-token logits for one sequence, [positions × vocab] from {@code offset}: the k
         * largest per position (largest first) and each row's log-sum-exp.
         */
        public static TopK of(float[] logits, int offset, int positions, int vocab, int k) {
            if (k < 1 || k > vocab) {
                throw new IllegalArgumentException("k must be in 1.." + vocab + ", got " + k);
            }
            int[] ids = new int[positions * k];
            float[] top = new float[positions * k];
            float[] lse = new float[positions];
            double[] p = new double[vocab];
            boolean[] taken = new boolean[vocab];
            for (int t = 0; t < positions; t++) {
                int row = offset + t * vocab;
                lse[t] = (float) softmax(logits, row, vocab, p);
                java.util.Arrays.fill(taken, false);
                for (int i = 0; i < k; i++) {
                    int best = -1;
                    for (int j = 0; j < vocab; j++) {
                        if (!taken[j] && (best < 0 || logits[row + j] > logits[row + best])) {
                            best = j;
                        }
                    }
                    taken[best] = true;
                    ids[t * k + i] = best;
                    top[t * k + i] = logits[row + best];
                }
            }
            return new TopK(k, ids, top, lse);
        }
    }

    /** The next-token logits at every position, [tokens × vocab], sequences one after another. */
    public float[] logits(int[][] tokens) {
        return logits(encoder.forward(tokens));
    }

    private float[] logits(Encoder.Activations a) {
        int rows = a.rows;
        int d = spec().width();
        int vocab = spec().vocab();
        float[] out = new float[rows * vocab];
        gemm.gemm(false, true, rows, vocab, d, 1f, a.hidden(), 0, d, params.get(EncoderParams.WORD), 0, d, 0f, out, 0, vocab);
        return out;
    }

    /**
     * The loss of a batch, {@code α · KD + (1 − α) · CE}, its gradient added into {@code grads} (none when null).
     *
     * @param teacher per sequence its teacher's targets (one position per token), or null for CE alone ({@code α} then 0)
     */
    public double loss(int[][] tokens, TopK[] teacher, float alpha, EncoderParams grads) {
        if (teacher == null) {
            alpha = 0f;
        } else if (teacher.length != tokens.length) {
            throw new IllegalArgumentException(tokens.length + " sequences but " + teacher.length + " teacher targets");
        }
        Encoder.Activations a = encoder.forward(tokens);
        float[] logits = logits(a);
        int vocab = spec().vocab();
        int ceRows = 0;
        int kdRows = 0;
        for (int s = 0; s < tokens.length; s++) {
            ceRows += tokens[s].length - 1;
            if (alpha > 0) {
                if (teacher[s].positions() != tokens[s].length) {
                    throw new IllegalArgumentException("sequence " + s + " has " + tokens[s].length + " tokens but its teacher targets "
                            + teacher[s].positions() + " positions");
                }
                kdRows += tokens[s].length;
            }
        }
        float ceWeight = ceRows == 0 ? 0f : (1 - alpha) / ceRows;
        float kdWeight = kdRows == 0 ? 0f : alpha / kdRows;
        double loss = 0;
        float[] dLogits = grads == null ? null : new float[logits.length];
        double[] p = new double[vocab];
        for (int s = 0; s < tokens.length; s++) {
            for (int t = 0; t < tokens[s].length; t++) {
                int row = (a.start[s] + t) * vocab;
                double lse = softmax(logits, row, vocab, p);
                if (t + 1 < tokens[s].length && ceWeight > 0) {
                    int next = tokens[s][t + 1];
                    loss += ceWeight * (lse - logits[row + next]);
                    if (dLogits != null) {
                        for (int j = 0; j < vocab; j++) {
                            dLogits[row + j] += (float) (ceWeight * p[j]);
                        }
                        dLogits[row + next] -= ceWeight;
                    }
                }
                if (kdWeight > 0) {
                    loss += kdWeight * distill(teacher[s], t, p, dLogits, row, kdWeight);
                }
            }
        }
        if (dLogits != null) {
            int rows = a.rows;
            int d = spec().width();
            float[] dHidden = new float[rows * d];
            gemm.gemm(false, false, rows, d, vocab, 1f, dLogits, 0, vocab, params.get(EncoderParams.WORD), 0, d, 0f, dHidden, 0, d);
            // The tied head's share of the word embeddings' gradient; the encoder adds the input side's.
            gemm.gemm(true, false, vocab, d, rows, 1f, dLogits, 0, vocab, a.hidden(), 0, d, 1f, grads.get(EncoderParams.WORD), 0, d);
            encoder.backwardFromHidden(a, dHidden, grads);
        }
        return loss;
    }

    /**
     * KL(teacher ‖ student) at one position over the teacher's top k and one tail bucket (the rest of each
     * distribution's mass); adds {@code weight ·} its gradient with respect to the student's logits into {@code dLogits}.
     * With student probabilities p, teacher probabilities q and tail masses P, Q: ∂/∂z_j = p_j − q_j for j in the top k,
     * p_j − Q · p_j / P outside it.
     */
    private static double distill(TopK teacher, int t, double[] p, float[] dLogits, int row, float weight) {
        int k = teacher.k();
        double inTop = 0;
        double studentTop = 0;
        double kl = 0;
        for (int i = 0; i < k; i++) {
            int id = teacher.ids()[t * k + i];
            double q = Math.exp(teacher.logits()[t * k + i] - teacher.logSumExp()[t]);
            inTop += q;
            studentTop += p[id];
            if (q > 0) {
                kl += q * (Math.log(q) - Math.log(Math.max(p[id], 1e-30)));
            }
        }
        double qTail = Math.max(0, 1 - inTop);
        double pTail = Math.max(1 - studentTop, 1e-30);
        if (qTail > 0) {
            kl += qTail * (Math.log(qTail) - Math.log(pTail));
        }
        if (dLogits != null) {
            double tailScale = qTail / pTail;
            for (int j = 0; j < p.length; j++) {
                dLogits[row + j] += (float) (weight * (p[j] - tailScale * p[j]));
            }
            for (int i = 0; i < k; i++) {
                int id = teacher.ids()[t * k + i];
                double q = Math.exp(teacher.logits()[t * k + i] - teacher.logSumExp()[t]);
                // Inside the top k the tail term does not apply: undo it, and subtract q.
                dLogits[row + id] += (float) (weight * (tailScale * p[id] - q));
            }
        }
        return kl;
    }

    /** Fills {@code p} with softmax(logits[row .. row + n]) and returns its log-sum-exp. */
    private static double softmax(float[] logits, int row, int n, double[] p) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, logits[row + j]);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            p[j] = Math.exp(logits[row + j] - max);
            sum += p[j];
        }
        for (int j = 0; j < n; j++) {
            p[j] /= sum;
        }
        return max + Math.log(sum);
    }

    /** exp of the mean next-token cross-entropy over every predicted position of these sequences. */
    public double perplexity(int[][] tokens) {
        return Math.exp(loss(tokens, null, 0f, null));
    }
}
