package io.streamdistill.student.model;

import java.util.Arrays;

/**
 * Gradient buffers of one batch. The embedding tables' gradients are sparse: only the rows the
 * batch touched are non-zero, and {@link #touchedTokens()} / {@link #touchedBigrams()} list them,
 * so the optimiser updates (and this class clears) only those rows.
 */
public final class Gradients {
    private final int dim;
    public final float[] tokens;
    public final float[] bigrams;
    public final float[] w1;
    public final float[] b1;
    public final float[] w2;
    public final float[] b2;
    public final float[] fp;
    public final float[] fb;
    final float[] scratchHeadIn;
    final float[] scratchPooled;
    private final boolean[] tokenTouched;
    private final boolean[] bigramTouched;
    private int[] touchedTokens = new int[256];
    private int touchedTokenCount;
    private int[] touchedBigrams = new int[256];
    private int touchedBigramCount;

    public Gradients(StudentConfig c) {
        this.dim = c.embeddingDim();
        tokens = new float[c.vocabSize() * dim];
        bigrams = new float[c.bigramBuckets() * dim];
        w1 = new float[c.hiddenDim() * dim];
        b1 = new float[c.hiddenDim()];
        w2 = new float[c.outputDim() * c.headInputDim()];
        b2 = new float[c.outputDim()];
        fp = new float[c.featureDim() * dim];
        fb = new float[c.featureDim()];
        scratchHeadIn = new float[c.headInputDim()];
        scratchPooled = new float[dim];
        tokenTouched = new boolean[c.vocabSize()];
        bigramTouched = new boolean[c.bigramBuckets()];
    }

    void addTokenRow(int row, float[] g, float scale) {
        if (!tokenTouched[row]) {
            tokenTouched[row] = true;
            if (touchedTokenCount == touchedTokens.length) {
                touchedTokens = Arrays.copyOf(touchedTokens, touchedTokens.length * 2);
            }
            touchedTokens[touchedTokenCount++] = row;
        }
        int base = row * dim;
        for (int j = 0; j < dim; j++) {
            tokens[base + j] += g[j] * scale;
        }
    }

    void addBigramRow(int row, float[] g, float scale) {
        if (!bigramTouched[row]) {
            bigramTouched[row] = true;
            if (touchedBigramCount == touchedBigrams.length) {
                touchedBigrams = Arrays.copyOf(touchedBigrams, touchedBigrams.length * 2);
            }
            touchedBigrams[touchedBigramCount++] = row;
        }
        int base = row * dim;
        for (int j = 0; j < dim; j++) {
            bigrams[base + j] += g[j] * scale;
        }
    }

    /** Rows of the token table with a gradient, in first-touched order. */
    public int[] touchedTokens() {
        return Arrays.copyOf(touchedTokens, touchedTokenCount);
    }

    public int[] touchedBigrams() {
        return Arrays.copyOf(touchedBigrams, touchedBigramCount);
    }

    public int dim() {
        return dim;
    }

    /** The squared L2 norm of the whole gradient (touched rows only: the others are zero). */
    public double squaredNorm() {
        double s = sumSquares(w1) + sumSquares(b1) + sumSquares(w2) + sumSquares(b2) + sumSquares(fp) + sumSquares(fb);
        for (int t = 0; t < touchedTokenCount; t++) {
            s += sumSquares(tokens, touchedTokens[t] * dim, dim);
        }
        for (int t = 0; t < touchedBigramCount; t++) {
            s += sumSquares(bigrams, touchedBigrams[t] * dim, dim);
        }
        return s;
    }

    /** Zeroes everything for the next batch, touching only the rows that were used. */
    public void clear() {
        for (int t = 0; t < touchedTokenCount; t++) {
            int row = touchedTokens[t];
            tokenTouched[row] = false;
            Arrays.fill(tokens, row * dim, row * dim + dim, 0f);
        }
        for (int t = 0; t < touchedBigramCount; t++) {
            int row = touchedBigrams[t];
            bigramTouched[row] = false;
            Arrays.fill(bigrams, row * dim, row * dim + dim, 0f);
        }
        touchedTokenCount = 0;
        touchedBigramCount = 0;
        Arrays.fill(w1, 0f);
        Arrays.fill(b1, 0f);
        Arrays.fill(w2, 0f);
        Arrays.fill(b2, 0f);
        Arrays.fill(fp, 0f);
        Arrays.fill(fb, 0f);
    }

    private static double sumSquares(float[] a) {
        return sumSquares(a, 0, a.length);
    }

    private static double sumSquares(float[] a, int from, int n) {
        double s = 0;
        for (int i = from; i < from + n; i++) {
            s += (double) a[i] * a[i];
        }
        return s;
    }
}
