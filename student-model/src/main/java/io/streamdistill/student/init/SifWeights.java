package io.streamdistill.student.init;

/**
 * Smooth-inverse-frequency weights {@code a / (a + p(token))} (Arora et al. 2017; Model2Vec uses
 * them for its static tables): frequent tokens, which carry little meaning, are scaled down before
 * mean pooling. {@code p} is the token's probability, counted on a corpus or, without one,
 * estimated from the token's rank in the vocabulary by Zipf's law.
 */
public final class SifWeights {
    /** Model2Vec's a for rank-estimated probabilities. */
    public static final double RANK_A = 1e-4;
    /**
     * a for corpus counts. The probe in DESIGN.md found a = 1e-4 cost 12–15 points of agreement on a
     * topical corpus (there the frequent words are the class cues) and a = 1e-2 none.
     */
    public static final double COUNT_A = 1e-2;

    /**
     * Weights from rank: {@code p(id) ∝ 1 / (rank + 2)} with rank = the id's position in vocabulary
     * order (WordPiece and BPE vocabularies are roughly in frequency order), normalised over the vocabulary.
     */
    public static float[] fromRank(int vocabSize, double a) {
        check(a);
        double z = 0;
        for (int r = 0; r < vocabSize; r++) {
            z += 1.0 / (r + 2);
        }
        float[] w = new float[vocabSize];
        for (int r = 0; r < vocabSize; r++) {
            double p = 1.0 / (r + 2) / z;
            w[r] = (float) (a / (a + p));
        }
        return w;
    }

    /**
     * Weights from token counts on a corpus, add-one smoothed so unseen tokens get the largest weight
     * without dividing by zero.
     */
    public static float[] fromCounts(long[] counts, double a) {
        check(a);
        double total = 0;
        for (long c : counts) {
            total += c + 1;
        }
        float[] w = new float[counts.length];
        for (int i = 0; i < counts.length; i++) {
            double p = (counts[i] + 1) / total;
            w[i] = (float) (a / (a + p));
        }
        return w;
    }

    private static void check(double a) {
        if (!(a > 0) || Double.isInfinite(a)) {
            throw new IllegalArgumentException("the SIF parameter a must be > 0, got " + a);
        }
    }

    private SifWeights() {
    }
}
