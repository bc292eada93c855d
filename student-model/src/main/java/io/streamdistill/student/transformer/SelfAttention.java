package io.streamdistill.student.transformer;

import io.streamdistill.student.math.Gemm;

/**
 * Multi-head scaled dot-product attention over packed sequences: the rows of q, k, v ([rows × width],
 * width = heads × headDim) hold the sequences one after another, sequence s at rows
 * {@code start[s] .. start[s] + length[s]}, and a token attends to every token of its own sequence (no
 * padding, so no mask), or, causal, to itself and the tokens before it (a language model's mask). The forward
 * pass keeps each head's attention probabilities for the backward pass; a masked pair has probability 0,
 * so the backward pass needs no mask of its own.
 */
final class SelfAttention {

    /** Floats of probability storage the sequences need: Σ heads · length². */
    static int probabilitySize(int[] lengths, int heads) {
        int n = 0;
        for (int len : lengths) {
            n += heads * len * len;
        }
        return n;
    }

    static void forward(Gemm gemm, float[] q, float[] k, float[] v, int[] start, int[] length, int heads, int width,
                        float[] probs, float[] context) {
        forward(gemm, q, k, v, start, length, heads, width, probs, context, false);
    }

    static void forward(Gemm gemm, float[] q, float[] k, float[] v, int[] start, int[] length, int heads, int width,
                        float[] probs, float[] context, boolean causal) {
        int dh = width / heads;
        float scale = (float) (1 / Math.sqrt(dh));
        int p = 0;
        for (int s = 0; s < start.length; s++) {
            int len = length[s];
            for (int h = 0; h < heads; h++) {
                int off = start[s] * width + h * dh;
                gemm.gemm(false, true, len, len, dh, scale, q, off, width, k, off, width, 0f, probs, p, len);
                for (int i = 0; i < len; i++) {
                    int visible = causal ? i + 1 : len;
                    softmaxRow(probs, p + i * len, visible);
                    java.util.Arrays.fill(probs, p + i * len + visible, p + (i + 1) * len, 0f);
                }
                gemm.gemm(false, false, len, dh, len, 1f, probs, p, len, v, off, width, 0f, context, off, width);
                p += len * len;
            }
        }
    }

    /**
     * From {@code dContext} to {@code dq}, {@code dk}, {@code dv} (written). {@code scratch} holds at least
     * the longest sequence's length².
     */
    static void backward(Gemm gemm, float[] dContext, float[] q, float[] k, float[] v, float[] probs, int[] start, int[] length,
                         int heads, int width, float[] dq, float[] dk, float[] dv, float[] scratch) {
        int dh = width / heads;
        float scale = (float) (1 / Math.sqrt(dh));
        int p = 0;
        for (int s = 0; s < start.length; s++) {
            int len = length[s];
            for (int h = 0; h < heads; h++) {
                int off = start[s] * width + h * dh;
                // dV = Pᵀ · dC; dP = dC · Vᵀ
                gemm.gemm(true, false, len, dh, len, 1f, probs, p, len, dContext, off, width, 0f, dv, off, width);
                gemm.gemm(false, true, len, len, dh, 1f, dContext, off, width, v, off, width, 0f, scratch, 0, len);
                // Through the softmax: dS = P ∘ (dP − rowsum(P ∘ dP)).
                for (int i = 0; i < len; i++) {
                    int row = i * len;
                    double dot = 0;
                    for (int j = 0; j < len; j++) {
                        dot += probs[p + row + j] * scratch[row + j];
                    }
                    for (int j = 0; j < len; j++) {
                        scratch[row + j] = (float) (probs[p + row + j] * (scratch[row + j] - dot));
                    }
                }
                // S = scale · Q · Kᵀ: dQ = scale · dS · K, dK = scale · dSᵀ · Q
                gemm.gemm(false, false, len, dh, len, scale, scratch, 0, len, k, off, width, 0f, dq, off, width);
                gemm.gemm(true, false, len, dh, len, scale, scratch, 0, len, q, off, width, 0f, dk, off, width);
                p += len * len;
            }
        }
    }

    private static void softmaxRow(float[] a, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, a[off + j]);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            float e = (float) Math.exp(a[off + j] - max);
            a[off + j] = e;
            sum += e;
        }
        float inv = (float) (1 / sum);
        for (int j = 0; j < n; j++) {
            a[off + j] *= inv;
        }
    }

    private SelfAttention() {
    }
}
