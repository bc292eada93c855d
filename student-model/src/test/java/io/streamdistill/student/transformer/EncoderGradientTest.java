package io.streamdistill.student.transformer;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.train.Rng;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Every operation's backward pass against central finite differences of a random projection of its
 * output, op by op and through the whole encoder (both poolings).
 */
class EncoderGradientTest {
    private static final float EPS = 1e-2f;

    /** Numeric d(loss)/d(values[i]) by central differences. */
    static double numeric(float[] values, int i, Supplier<Double> loss) {
        float keep = values[i];
        values[i] = keep + EPS;
        double up = loss.get();
        values[i] = keep - EPS;
        double down = loss.get();
        values[i] = keep;
        return (up - down) / (2 * EPS);
    }

    static void assertClose(String what, double analytic, double numeric) {
        assertThat(Math.abs(analytic - numeric)).as("%s: analytic %s, numeric %s", what, analytic, numeric)
                .isLessThanOrEqualTo(3e-3 + 2e-2 * Math.abs(numeric));
    }

    private static float[] random(Rng rng, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rng.nextGaussian() * scale);
        }
        return a;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    @Test
    void erfMatchesKnownValues() {
        assertThat(Gelu.erf(0)).isCloseTo(0, org.assertj.core.data.Offset.offset(2e-7));
        assertThat(Gelu.erf(0.3)).isCloseTo(0.328626759, org.assertj.core.data.Offset.offset(2e-7));
        assertThat(Gelu.erf(1)).isCloseTo(0.842700793, org.assertj.core.data.Offset.offset(2e-7));
        assertThat(Gelu.erf(-2)).isCloseTo(-0.995322265, org.assertj.core.data.Offset.offset(2e-7));
        assertThat(Gelu.erf(5)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(2e-7));
    }

    @Test
    void layerNormBackward() {
        Rng rng = new Rng(1);
        int rows = 3;
        int width = 7;
        float[] x = random(rng, rows * width, 1.5);
        float[] gamma = random(rng, width, 1);
        float[] beta = random(rng, width, 1);
        float[] r = random(rng, rows * width, 1);
        Supplier<Double> loss = () -> {
            float[] y = new float[rows * width];
            LayerNorm.forward(x, rows, width, gamma, beta, 1e-5f, y, new float[rows], new float[rows]);
            return dot(y, r);
        };
        float[] y = new float[rows * width];
        float[] mean = new float[rows];
        float[] rstd = new float[rows];
        LayerNorm.forward(x, rows, width, gamma, beta, 1e-5f, y, mean, rstd);
        float[] dx = new float[rows * width];
        float[] dGamma = new float[width];
        float[] dBeta = new float[width];
        LayerNorm.backward(r, x, mean, rstd, gamma, rows, width, dx, dGamma, dBeta);
        for (int i = 0; i < x.length; i++) {
            assertClose("dx[" + i + "]", dx[i], numeric(x, i, loss));
        }
        for (int i = 0; i < width; i++) {
            assertClose("dGamma[" + i + "]", dGamma[i], numeric(gamma, i, loss));
            assertClose("dBeta[" + i + "]", dBeta[i], numeric(beta, i, loss));
        }
    }

    @Test
    void geluBackward() {
        Rng rng = new Rng(2);
        int n = 40;
        float[] x = random(rng, n, 2);
        float[] r = random(rng, n, 1);
        Supplier<Double> loss = () -> {
            float[] y = new float[n];
            Gelu.forward(x, y, new float[n], n);
            return dot(y, r);
        };
        float[] gauss = new float[n];
        Gelu.forward(x, new float[n], gauss, n);
        float[] dx = new float[n];
        Gelu.backward(x, gauss, r, dx, n);
        for (int i = 0; i < n; i++) {
            assertClose("dx[" + i + "]", dx[i], numeric(x, i, loss));
        }
    }

    @Test
    void denseBackward() {
        Rng rng = new Rng(3);
        int rows = 4;
        int in = 5;
        int out = 3;
        float[] x = random(rng, rows * in, 1);
        float[] w = random(rng, in * out, 1);
        float[] b = random(rng, out, 1);
        float[] r = random(rng, rows * out, 1);
        Supplier<Double> loss = () -> {
            float[] y = new float[rows * out];
            Dense.forward(Gemm.REFERENCE, x, rows, in, w, b, out, y);
            return dot(y, r);
        };
        float[] dx = new float[rows * in];
        float[] dw = new float[in * out];
        float[] db = new float[out];
        Dense.backward(Gemm.REFERENCE, r, x, w, rows, in, out, dx, false, dw, db);
        for (int i = 0; i < x.length; i++) {
            assertClose("dx[" + i + "]", dx[i], numeric(x, i, loss));
        }
        for (int i = 0; i < w.length; i++) {
            assertClose("dw[" + i + "]", dw[i], numeric(w, i, loss));
        }
        for (int i = 0; i < out; i++) {
            assertClose("db[" + i + "]", db[i], numeric(b, i, loss));
        }
    }

    @Test
    void selfAttentionBackward() {
        Rng rng = new Rng(4);
        int heads = 2;
        int width = 6;
        int[] start = {0, 3};
        int[] length = {3, 4};
        int rows = 7;
        float[] q = random(rng, rows * width, 1);
        float[] k = random(rng, rows * width, 1);
        float[] v = random(rng, rows * width, 1);
        float[] r = random(rng, rows * width, 1);
        Supplier<Double> loss = () -> {
            float[] c = new float[rows * width];
            SelfAttention.forward(Gemm.REFERENCE, q, k, v, start, length, heads, width,
                    new float[SelfAttention.probabilitySize(length, heads)], c);
            return dot(c, r);
        };
        float[] probs = new float[SelfAttention.probabilitySize(length, heads)];
        float[] context = new float[rows * width];
        SelfAttention.forward(Gemm.REFERENCE, q, k, v, start, length, heads, width, probs, context);
        float[] dq = new float[rows * width];
        float[] dk = new float[rows * width];
        float[] dv = new float[rows * width];
        SelfAttention.backward(Gemm.REFERENCE, r, q, k, v, probs, start, length, heads, width, dq, dk, dv, new float[16]);
        for (int i = 0; i < rows * width; i++) {
            assertClose("dq[" + i + "]", dq[i], numeric(q, i, loss));
            assertClose("dk[" + i + "]", dk[i], numeric(k, i, loss));
            assertClose("dv[" + i + "]", dv[i], numeric(v, i, loss));
        }
    }

    @Test
    void theWholeEncoderBackwardWithMeanPooling() {
        wholeEncoder(EncoderSpec.Pooling.MEAN);
    }

    @Test
    void theWholeEncoderBackwardWithClsPooling() {
        wholeEncoder(EncoderSpec.Pooling.CLS);
    }

    private static void wholeEncoder(EncoderSpec.Pooling pooling) {
        EncoderSpec spec = new EncoderSpec(11, 8, 2, 2, 12, 6, 2, 1e-12f, pooling);
        EncoderParams params = EncoderParams.random(spec, 5);
        Rng rng = new Rng(6);
        // Weights larger than BERT's 0.02, so that every path carries a gradient finite differences can see.
        params.tensors().forEach((name, t) -> {
            if (!name.endsWith("LayerNorm.weight")) {
                for (int i = 0; i < t.length; i++) {
                    t[i] = (float) (rng.nextGaussian() * 0.5);
                }
            }
        });
        Encoder encoder = new Encoder(params, Gemm.REFERENCE);
        int[][] tokens = {{1, 4, 4, 2}, {1, 7, 3, 9, 10, 2}, {5}};
        float[] r = random(rng, tokens.length * spec.width(), 1);
        Supplier<Double> loss = () -> dot(encoder.forward(tokens).pooled(), r);
        EncoderParams grads = EncoderParams.zeros(spec);
        encoder.backward(encoder.forward(tokens), r, grads);
        int checked = 0;
        for (Map.Entry<String, float[]> e : params.tensors().entrySet()) {
            float[] values = e.getValue();
            float[] g = grads.get(e.getKey());
            // Every tensor, at a few entries spread over it (the word rows of the batch's tokens included).
            int step = Math.max(1, values.length / 6);
            for (int i = (int) (e.getKey().hashCode() & 0x7fffffffL) % step; i < values.length; i += step) {
                assertClose(e.getKey() + "[" + i + "]", g[i], numeric(values, i, loss));
                checked++;
            }
            if (e.getKey().equals(EncoderParams.WORD)) {
                for (int id : new int[] {1, 4, 9}) {
                    int i = id * spec.width() + 3;
                    assertClose(e.getKey() + "[token " + id + "]", g[i], numeric(values, i, loss));
                }
                assertThat(g[6 * spec.width()]).as("a token no sequence holds gets no gradient").isZero();
            }
        }
        assertThat(checked).isGreaterThan(100);
    }
}
