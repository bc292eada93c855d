package io.streamdistill.student.model;

import io.streamdistill.student.train.Rng;

/**
 * The parameters of an EmbeddingBag student and its forward and backward passes.
 *
 * <p>Forward, for one text with token ids t_1..t_n: the features are the tokens plus (when
 * bigram buckets are on) the hashed pairs of consecutive tokens; pooled = mean of their
 * embedding rows; z = act(W1 pooled + b1) when there is a hidden layer, else pooled;
 * out = W2 z + b2; classification outputs softmax(out), embedding outputs out / |out|.
 * The ONNX export computes exactly this from input_ids and attention_mask.
 *
 * <p>Layout: row-major float arrays; {@code tokens[id * dim + j]}, {@code w1[i * dim + j]},
 * {@code w2[o * headIn + i]}.
 */
public final class Student {
    /** Output norms below this are treated as this, in Java and in ONNX alike. */
    public static final float NORM_EPSILON = 1e-12f;

    private final StudentConfig config;
    final float[] tokens;
    final float[] bigrams;
    final float[] w1;
    final float[] b1;
    final float[] w2;
    final float[] b2;
    /** Feature distillation's projection of the pooled vector to the teacher's embedding (training only). */
    final float[] fp;
    final float[] fb;

    /** Fresh parameters drawn from the config's seed: the same seed gives the same student. */
    public Student(StudentConfig config) {
        this.config = config;
        int d = config.embeddingDim();
        int h = config.hiddenDim();
        int in = config.headInputDim();
        int o = config.outputDim();
        this.tokens = new float[Math.multiplyExact(config.vocabSize(), d)];
        this.bigrams = new float[Math.multiplyExact(config.bigramBuckets(), d)];
        this.w1 = new float[h * d];
        this.b1 = new float[h];
        this.w2 = new float[o * in];
        this.b2 = new float[o];
        this.fp = new float[config.featureDim() * d];
        this.fb = new float[config.featureDim()];
        Rng rng = new Rng(config.seed());
        fill(tokens, rng, 0.1 / Math.sqrt(d));
        fill(bigrams, rng, 0.1 / Math.sqrt(d));
        fill(w1, rng, Math.sqrt(2.0 / d));
        fill(w2, rng, Math.sqrt(1.0 / in));
        fill(fp, rng, Math.sqrt(1.0 / d));
    }

    private static void fill(float[] a, Rng rng, double std) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rng.nextGaussian() * std);
        }
    }

    public StudentConfig config() {
        return config;
    }

    /**
     * The parameter arrays in a fixed order: tokens, bigrams, w1, b1, w2, b2, then feature
     * distillation's projection and bias (empty when off). State files and export use it.
     */
    public float[][] parameters() {
        return new float[][] {tokens, bigrams, w1, b1, w2, b2, fp, fb};
    }

    /** Index of the feature projection in {@link #parameters()}; its bias follows. */
    public static final int FEATURE_PROJECTION = 6;

    /** Index of the token-embedding and bigram tables in {@link #parameters()}: updated sparsely. */
    public static final int TOKENS = 0;
    public static final int BIGRAMS = 1;

    /** The bigram bucket of two consecutive token ids (the ONNX graph computes the same). */
    public static int bigramBucket(int left, int right, int buckets) {
        return (int) Math.floorMod(left * StudentConfig.BIGRAM_PRIME + right, (long) buckets);
    }

    /**
     * Working memory of one forward pass, reused across calls by one thread. {@link #features}
     * lists the rows that were pooled: token ids as-is, bigram buckets as {@code -1 - bucket}.
     */
    public static final class Activations {
        final float[] pooled;
        final float[] hiddenPre;
        final float[] hidden;
        /** out: logits (classification) or the unnormalised embedding. */
        public final float[] out;
        /** What the model outputs: probabilities or the unit embedding. */
        public final float[] prediction;
        float outNorm;
        /** Feature distillation: the projection of the pooled vector, its unit vector and its length. */
        final float[] feature;
        public final float[] featureUnit;
        float featureNorm;
        int[] features = new int[64];
        int featureCount;

        public Activations(StudentConfig c) {
            pooled = new float[c.embeddingDim()];
            hiddenPre = new float[c.hiddenDim()];
            hidden = new float[c.hiddenDim()];
            out = new float[c.outputDim()];
            prediction = new float[c.outputDim()];
            feature = new float[c.featureDim()];
            featureUnit = new float[c.featureDim()];
        }

        void addFeature(int f) {
            if (featureCount == features.length) {
                features = java.util.Arrays.copyOf(features, features.length * 2);
            }
            features[featureCount++] = f;
        }
    }

    /**
     * Forward pass for one text.
     *
     * @param keep when not null, keep[i] false drops token i (and every bigram it is part of); training only
     */
    public void forward(int[] tokenIds, boolean[] keep, Activations a) {
        int d = config.embeddingDim();
        int buckets = config.bigramBuckets();
        a.featureCount = 0;
        for (int i = 0; i < tokenIds.length; i++) {
            int id = tokenIds[i];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + config.vocabSize());
            }
            if (keep == null || keep[i]) {
                a.addFeature(id);
            }
            if (buckets > 0 && i + 1 < tokenIds.length && (keep == null || (keep[i] && keep[i + 1]))) {
                a.addFeature(-1 - bigramBucket(id, tokenIds[i + 1], buckets));
            }
        }
        float[] p = a.pooled;
        java.util.Arrays.fill(p, 0f);
        for (int f = 0; f < a.featureCount; f++) {
            int feature = a.features[f];
            float[] table = feature >= 0 ? tokens : bigrams;
            int row = (feature >= 0 ? feature : -1 - feature) * d;
            for (int j = 0; j < d; j++) {
                p[j] += table[row + j];
            }
        }
        float inv = 1f / Math.max(a.featureCount, 1);
        for (int j = 0; j < d; j++) {
            p[j] *= inv;
        }
        float[] z = p;
        int h = config.hiddenDim();
        if (h > 0) {
            Activation act = config.activation();
            for (int i = 0; i < h; i++) {
                float s = b1[i] + dot(w1, i * d, p, d);
                a.hiddenPre[i] = s;
                a.hidden[i] = act.apply(s);
            }
            z = a.hidden;
        }
        int in = config.headInputDim();
        int o = config.outputDim();
        for (int k = 0; k < o; k++) {
            a.out[k] = b2[k] + dot(w2, k * in, z, in);
        }
        if (config.task() == Task.CLASSIFICATION) {
            float max = Float.NEGATIVE_INFINITY;
            for (float v : a.out) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (int k = 0; k < o; k++) {
                float e = (float) Math.exp(a.out[k] - max);
                a.prediction[k] = e;
                sum += e;
            }
            for (int k = 0; k < o; k++) {
                a.prediction[k] = (float) (a.prediction[k] / sum);
            }
        } else {
            double sq = 0;
            for (float v : a.out) {
                sq += (double) v * v;
            }
            a.outNorm = (float) Math.max(Math.sqrt(sq), NORM_EPSILON);
            for (int k = 0; k < o; k++) {
                a.prediction[k] = a.out[k] / a.outNorm;
            }
        }
    }

    /**
     * Feature distillation, after {@link #forward}: {@code f = fp pooled + fb} and its unit vector
     * (in {@link Activations#featureUnit}), compared with the teacher's embedding by the loss.
     */
    public void featureForward(Activations a) {
        int d = config.embeddingDim();
        int m = config.featureDim();
        double sq = 0;
        for (int j = 0; j < m; j++) {
            float v = fb[j] + dot(fp, j * d, a.pooled, d);
            a.feature[j] = v;
            sq += (double) v * v;
        }
        a.featureNorm = (float) Math.max(Math.sqrt(sq), NORM_EPSILON);
        for (int j = 0; j < m; j++) {
            a.featureUnit[j] = a.feature[j] / a.featureNorm;
        }
    }

    /** dLoss/dFeature from dLoss/dFeatureUnit: back through the normalisation of {@link #featureForward}. */
    public static void backThroughFeatureNormalisation(Activations a, float[] gradUnit, float[] gradFeature) {
        backThroughUnit(a.featureUnit, a.featureNorm, gradUnit, gradFeature);
    }

    /**
     * {@code w[off..off+n) . x[0..n)} with four independent partial sums: a single running sum is
     * bound by the latency of float addition (the JIT may not reorder it), four keep the FPU busy.
     */
    static float dot(float[] w, int off, float[] x, int n) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += w[off + i] * x[i];
            s1 += w[off + i + 1] * x[i + 1];
            s2 += w[off + i + 2] * x[i + 2];
            s3 += w[off + i + 3] * x[i + 3];
        }
        for (; i < n; i++) {
            s0 += w[off + i] * x[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** {@code y[yOff + i] += alpha * x[xOff + i]} for i in [0, n). */
    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    /** dLoss/dOut for an embedding head, from dLoss/dPrediction: back through the L2 normalisation. */
    public static void backThroughNormalisation(Activations a, float[] gradPrediction, float[] gradOut) {
        backThroughUnit(a.prediction, a.outNorm, gradPrediction, gradOut);
    }

    /** d/dv from d/du for u = v / |v|: {@code (g - u (u . g)) / |v|}. */
    private static void backThroughUnit(float[] unit, float norm, float[] gradUnit, float[] gradRaw) {
        double dot = 0;
        for (int k = 0; k < gradUnit.length; k++) {
            dot += (double) unit[k] * gradUnit[k];
        }
        for (int k = 0; k < gradUnit.length; k++) {
            gradRaw[k] = (float) ((gradUnit[k] - unit[k] * dot) / norm);
        }
    }

    /**
     * Backward pass for one text, after {@link #forward}: adds dLoss/dParameters, scaled by
     * {@code scale}, into {@code g}.
     *
     * @param gradOut dLoss/dOut (logits, or the unnormalised embedding)
     */
    public void backward(Activations a, float[] gradOut, float scale, Gradients g) {
        backward(a, gradOut, scale, g, null);
    }

    /**
     * Like {@link #backward(Activations, float[], float, Gradients)}, with feature distillation's
     * dLoss/dFeature too (null: none), after {@link #featureForward}.
     */
    public void backward(Activations a, float[] gradOut, float scale, Gradients g, float[] gradFeature) {
        int d = config.embeddingDim();
        int h = config.hiddenDim();
        int in = config.headInputDim();
        int o = config.outputDim();
        float[] z = h > 0 ? a.hidden : a.pooled;
        float[] gz = g.scratchHeadIn;
        java.util.Arrays.fill(gz, 0f);
        for (int k = 0; k < o; k++) {
            float go = gradOut[k] * scale;
            if (go == 0f) {
                continue;
            }
            g.b2[k] += go;
            int row = k * in;
            // Two simple loops rather than one: each is a plain a += s * b that the JIT vectorises.
            axpy(go, z, 0, g.w2, row, in);
            axpy(go, w2, row, gz, 0, in);
        }
        float[] gp;
        if (h > 0) {
            gp = g.scratchPooled;
            java.util.Arrays.fill(gp, 0f);
            Activation act = config.activation();
            for (int i = 0; i < h; i++) {
                float ga = gz[i] * act.derivative(a.hiddenPre[i], a.hidden[i]);
                if (ga == 0f) {
                    continue;
                }
                g.b1[i] += ga;
                int row = i * d;
                axpy(ga, a.pooled, 0, g.w1, row, d);
                axpy(ga, w1, row, gp, 0, d);
            }
        } else {
            gp = gz;
        }
        if (gradFeature != null) {
            for (int j = 0; j < gradFeature.length; j++) {
                float gf = gradFeature[j] * scale;
                if (gf == 0f) {
                    continue;
                }
                g.fb[j] += gf;
                axpy(gf, a.pooled, 0, g.fp, j * d, d);
                axpy(gf, fp, j * d, gp, 0, d);
            }
        }
        float inv = 1f / Math.max(a.featureCount, 1);
        for (int f = 0; f < a.featureCount; f++) {
            int feature = a.features[f];
            if (feature >= 0) {
                g.addTokenRow(feature, gp, inv);
            } else {
                g.addBigramRow(-1 - feature, gp, inv);
            }
        }
    }
}
