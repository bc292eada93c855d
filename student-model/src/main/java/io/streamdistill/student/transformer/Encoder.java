package io.streamdistill.student.transformer;

import io.streamdistill.student.math.Gemm;

/**
 * A BERT-style encoder in plain Java, forward and backward: embeddings (word + position + token type
 * 0, then LayerNorm), {@code layers} post-LayerNorm blocks ({@code h = LN(x + Attention(x))},
 * {@code out = LN(h + W2 · GELU(W1 · h))}), then pooling. Sequences are packed one after another,
 * without padding, so attention needs no mask and no work is spent on pad tokens. Every operation's
 * backward pass sits beside its forward pass in its own class and is checked against finite
 * differences in the tests.
 */
public final class Encoder {
    private final EncoderSpec spec;
    private final EncoderParams params;
    private final Gemm gemm;
    private final boolean causal;

    public Encoder(EncoderParams params, Gemm gemm) {
        this(params, gemm, false);
    }

    /** @param causal each token attends only to itself and the tokens before it (a causal language model) */
    public Encoder(EncoderParams params, Gemm gemm, boolean causal) {
        this.spec = params.spec();
        this.params = params;
        this.gemm = gemm;
        this.causal = causal;
    }

    public boolean causal() {
        return causal;
    }

    public EncoderSpec spec() {
        return spec;
    }

    public EncoderParams params() {
        return params;
    }

    /** What one forward pass computed, kept for the backward pass. */
    public static final class Activations {
        final int[] start;
        final int[] length;
        final int rows;
        final int[] ids;
        final int[] positions;
        final float[] embedded;
        final float[] embMean;
        final float[] embRstd;
        /** x[l]: the input of block l; x[layers] is the encoder's output, [rows × width]. */
        final float[][] x;
        final float[][] q;
        final float[][] k;
        final float[][] v;
        final float[][] probs;
        final float[][] context;
        final float[][] res1;
        final float[][] mean1;
        final float[][] rstd1;
        final float[][] h1;
        final float[][] f1;
        final float[][] gelu;
        /** exp(−x²/2) of each GELU input, kept for the backward pass ({@link Gelu#forward}). */
        final float[][] gauss;
        final float[][] res2;
        final float[][] mean2;
        final float[][] rstd2;
        /** [sequences × width]. */
        final float[] pooled;

        Activations(EncoderSpec spec, int[][] tokens) {
            int n = tokens.length;
            start = new int[n];
            length = new int[n];
            int r = 0;
            for (int s = 0; s < n; s++) {
                if (tokens[s].length == 0 || tokens[s].length > spec.maxPositions()) {
                    throw new IllegalArgumentException("sequence " + s + " has " + tokens[s].length + " tokens; the encoder takes 1 to "
                            + spec.maxPositions());
                }
                start[s] = r;
                length[s] = tokens[s].length;
                r += tokens[s].length;
            }
            rows = r;
            ids = new int[rows];
            positions = new int[rows];
            for (int s = 0; s < n; s++) {
                for (int t = 0; t < length[s]; t++) {
                    int id = tokens[s][t];
                    if (id < 0 || id >= spec.vocab()) {
                        throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (" + spec.vocab() + ")");
                    }
                    ids[start[s] + t] = id;
                    positions[start[s] + t] = t;
                }
            }
            int d = spec.width();
            int layers = spec.layers();
            embedded = new float[rows * d];
            embMean = new float[rows];
            embRstd = new float[rows];
            x = new float[layers + 1][];
            x[0] = new float[rows * d];
            q = new float[layers][];
            k = new float[layers][];
            v = new float[layers][];
            probs = new float[layers][];
            context = new float[layers][];
            res1 = new float[layers][];
            mean1 = new float[layers][];
            rstd1 = new float[layers][];
            h1 = new float[layers][];
            f1 = new float[layers][];
            gelu = new float[layers][];
            gauss = new float[layers][];
            res2 = new float[layers][];
            mean2 = new float[layers][];
            rstd2 = new float[layers][];
            pooled = new float[n * d];
        }

        /** The pooled vectors, [sequences × width] row-major (a view: do not change it). */
        public float[] pooled() {
            return pooled;
        }

        /** The encoder's last hidden states, [tokens × width], sequences one after another (a view). */
        public float[] hidden() {
            return x[x.length - 1];
        }

        public int sequences() {
            return start.length;
        }
    }

    /** Runs the encoder on token id sequences (special tokens included, as the tokenizer gives them). */
    public Activations forward(int[][] tokens) {
        Activations a = new Activations(spec, tokens);
        int d = spec.width();
        int rows = a.rows;
        float[] word = params.get(EncoderParams.WORD);
        float[] pos = params.get(EncoderParams.POSITION);
        float[] type = spec.typeVocab() > 0 ? params.get(EncoderParams.TYPE) : null;
        for (int r = 0; r < rows; r++) {
            int w = a.ids[r] * d;
            int p = a.positions[r] * d;
            for (int i = 0; i < d; i++) {
                a.embedded[r * d + i] = word[w + i] + pos[p + i] + (type == null ? 0f : type[i]);
            }
        }
        LayerNorm.forward(a.embedded, rows, d, params.get(EncoderParams.EMB_LN + ".weight"), params.get(EncoderParams.EMB_LN + ".bias"),
                spec.eps(), a.x[0], a.embMean, a.embRstd);
        for (int l = 0; l < spec.layers(); l++) {
            block(l, a);
        }
        pool(a);
        return a;
    }

    private void block(int l, Activations a) {
        String p = EncoderParams.layer(l);
        int d = spec.width();
        int f = spec.ffn();
        int rows = a.rows;
        float[] x = a.x[l];
        a.q[l] = new float[rows * d];
        a.k[l] = new float[rows * d];
        a.v[l] = new float[rows * d];
        Dense.forward(gemm, x, rows, d, params.get(p + "attention.self.query.weight"), params.get(p + "attention.self.query.bias"), d, a.q[l]);
        Dense.forward(gemm, x, rows, d, params.get(p + "attention.self.key.weight"), params.get(p + "attention.self.key.bias"), d, a.k[l]);
        Dense.forward(gemm, x, rows, d, params.get(p + "attention.self.value.weight"), params.get(p + "attention.self.value.bias"), d, a.v[l]);
        a.probs[l] = new float[SelfAttention.probabilitySize(a.length, spec.heads())];
        a.context[l] = new float[rows * d];
        SelfAttention.forward(gemm, a.q[l], a.k[l], a.v[l], a.start, a.length, spec.heads(), d, a.probs[l], a.context[l], causal);
        float[] attended = new float[rows * d];
        Dense.forward(gemm, a.context[l], rows, d, params.get(p + "attention.output.dense.weight"),
                params.get(p + "attention.output.dense.bias"), d, attended);
        a.res1[l] = attended;
        for (int i = 0; i < rows * d; i++) {
            attended[i] += x[i];
        }
        a.mean1[l] = new float[rows];
        a.rstd1[l] = new float[rows];
        a.h1[l] = new float[rows * d];
        LayerNorm.forward(a.res1[l], rows, d, params.get(p + "attention.output.LayerNorm.weight"),
                params.get(p + "attention.output.LayerNorm.bias"), spec.eps(), a.h1[l], a.mean1[l], a.rstd1[l]);
        a.f1[l] = new float[rows * f];
        Dense.forward(gemm, a.h1[l], rows, d, params.get(p + "intermediate.dense.weight"), params.get(p + "intermediate.dense.bias"), f,
                a.f1[l]);
        a.gelu[l] = new float[rows * f];
        a.gauss[l] = new float[rows * f];
        Gelu.forward(a.f1[l], a.gelu[l], a.gauss[l], rows * f);
        float[] res2 = new float[rows * d];
        Dense.forward(gemm, a.gelu[l], rows, f, params.get(p + "output.dense.weight"), params.get(p + "output.dense.bias"), d, res2);
        for (int i = 0; i < rows * d; i++) {
            res2[i] += a.h1[l][i];
        }
        a.res2[l] = res2;
        a.mean2[l] = new float[rows];
        a.rstd2[l] = new float[rows];
        a.x[l + 1] = new float[rows * d];
        LayerNorm.forward(res2, rows, d, params.get(p + "output.LayerNorm.weight"), params.get(p + "output.LayerNorm.bias"), spec.eps(),
                a.x[l + 1], a.mean2[l], a.rstd2[l]);
    }

    private void pool(Activations a) {
        int d = spec.width();
        float[] out = a.hidden();
        for (int s = 0; s < a.start.length; s++) {
            if (spec.pooling() == EncoderSpec.Pooling.CLS) {
                System.arraycopy(out, a.start[s] * d, a.pooled, s * d, d);
                continue;
            }
            float inv = 1f / a.length[s];
            for (int t = 0; t < a.length[s]; t++) {
                int r = (a.start[s] + t) * d;
                for (int i = 0; i < d; i++) {
                    a.pooled[s * d + i] += out[r + i] * inv;
                }
            }
        }
    }

    /**
     * Adds into {@code grads} the gradient of a loss whose gradient with respect to the pooled vectors is
     * {@code dPooled} ([sequences × width]). The word-embedding gradient is non-zero only on the rows of the
     * batch's tokens.
     */
    public void backward(Activations a, float[] dPooled, EncoderParams grads) {
        int d = spec.width();
        int rows = a.rows;
        float[] dx = new float[rows * d];
        for (int s = 0; s < a.start.length; s++) {
            if (spec.pooling() == EncoderSpec.Pooling.CLS) {
                System.arraycopy(dPooled, s * d, dx, a.start[s] * d, d);
                continue;
            }
            float inv = 1f / a.length[s];
            for (int t = 0; t < a.length[s]; t++) {
                int r = (a.start[s] + t) * d;
                for (int i = 0; i < d; i++) {
                    dx[r + i] = dPooled[s * d + i] * inv;
                }
            }
        }
        backwardFromHidden(a, dx, grads);
    }

    /** Like {@link #backward}, from a gradient with respect to the last hidden states ([tokens × width]); consumes {@code dHidden}. */
    public void backwardFromHidden(Activations a, float[] dHidden, EncoderParams grads) {
        int d = spec.width();
        int rows = a.rows;
        float[] dx = dHidden;
        int longest = 0;
        for (int len : a.length) {
            longest = Math.max(longest, len);
        }
        float[] scratch = new float[longest * longest];
        for (int l = spec.layers() - 1; l >= 0; l--) {
            dx = blockBackward(l, a, dx, grads, scratch);
        }
        float[] dEmbedded = new float[rows * d];
        LayerNorm.backward(dx, a.embedded, a.embMean, a.embRstd, params.get(EncoderParams.EMB_LN + ".weight"), rows, d, dEmbedded,
                grads.get(EncoderParams.EMB_LN + ".weight"), grads.get(EncoderParams.EMB_LN + ".bias"));
        float[] dWord = grads.get(EncoderParams.WORD);
        float[] dPos = grads.get(EncoderParams.POSITION);
        float[] dType = spec.typeVocab() > 0 ? grads.get(EncoderParams.TYPE) : null;
        for (int r = 0; r < rows; r++) {
            int w = a.ids[r] * d;
            int p = a.positions[r] * d;
            for (int i = 0; i < d; i++) {
                float g = dEmbedded[r * d + i];
                dWord[w + i] += g;
                dPos[p + i] += g;
                if (dType != null) {
                    dType[i] += g;
                }
            }
        }
    }

    private float[] blockBackward(int l, Activations a, float[] dOut, EncoderParams grads, float[] scratch) {
        String p = EncoderParams.layer(l);
        int d = spec.width();
        int f = spec.ffn();
        int rows = a.rows;
        float[] dRes2 = new float[rows * d];
        LayerNorm.backward(dOut, a.res2[l], a.mean2[l], a.rstd2[l], params.get(p + "output.LayerNorm.weight"), rows, d, dRes2,
                grads.get(p + "output.LayerNorm.weight"), grads.get(p + "output.LayerNorm.bias"));
        float[] dGelu = new float[rows * f];
        Dense.backward(gemm, dRes2, a.gelu[l], params.get(p + "output.dense.weight"), rows, f, d, dGelu, false,
                grads.get(p + "output.dense.weight"), grads.get(p + "output.dense.bias"));
        float[] dF1 = new float[rows * f];
        Gelu.backward(a.f1[l], a.gauss[l], dGelu, dF1, rows * f);
        // The residual carries dRes2 straight to h1; the feed-forward path adds to it.
        float[] dH1 = dRes2;
        Dense.backward(gemm, dF1, a.h1[l], params.get(p + "intermediate.dense.weight"), rows, d, f, dH1, true,
                grads.get(p + "intermediate.dense.weight"), grads.get(p + "intermediate.dense.bias"));
        float[] dRes1 = new float[rows * d];
        LayerNorm.backward(dH1, a.res1[l], a.mean1[l], a.rstd1[l], params.get(p + "attention.output.LayerNorm.weight"), rows, d, dRes1,
                grads.get(p + "attention.output.LayerNorm.weight"), grads.get(p + "attention.output.LayerNorm.bias"));
        float[] dContext = new float[rows * d];
        Dense.backward(gemm, dRes1, a.context[l], params.get(p + "attention.output.dense.weight"), rows, d, d, dContext, false,
                grads.get(p + "attention.output.dense.weight"), grads.get(p + "attention.output.dense.bias"));
        float[] dq = new float[rows * d];
        float[] dk = new float[rows * d];
        float[] dv = new float[rows * d];
        SelfAttention.backward(gemm, dContext, a.q[l], a.k[l], a.v[l], a.probs[l], a.start, a.length, spec.heads(), d, dq, dk, dv, scratch);
        // The residual carries dRes1 straight to x; the three projections add to it.
        float[] dx = dRes1;
        float[] x = a.x[l];
        Dense.backward(gemm, dq, x, params.get(p + "attention.self.query.weight"), rows, d, d, dx, true,
                grads.get(p + "attention.self.query.weight"), grads.get(p + "attention.self.query.bias"));
        Dense.backward(gemm, dk, x, params.get(p + "attention.self.key.weight"), rows, d, d, dx, true,
                grads.get(p + "attention.self.key.weight"), grads.get(p + "attention.self.key.bias"));
        Dense.backward(gemm, dv, x, params.get(p + "attention.self.value.weight"), rows, d, d, dx, true,
                grads.get(p + "attention.self.value.weight"), grads.get(p + "attention.self.value.bias"));
        return dx;
    }
}
