package io.streamdistill.student.train;

import io.streamdistill.student.model.Gradients;
import io.streamdistill.student.model.Student;

/**
 * Adam with lazy (sparse) updates: dense layers are updated every step, while the embedding
 * tables update only the rows the batch touched, keeping their moments as they were elsewhere.
 * Bias correction uses the global step count, as lazy Adam does.
 */
public final class Adam {
    final float[][] m;
    final float[][] v;

    Adam(Student student) {
        float[][] params = student.parameters();
        m = new float[params.length][];
        v = new float[params.length][];
        for (int i = 0; i < params.length; i++) {
            m[i] = new float[params[i].length];
            v[i] = new float[params[i].length];
        }
    }

    /**
     * Applies one update.
     *
     * @param step       the 1-based step count, for bias correction
     * @param lr         the learning rate of this step
     * @param gradScale  multiplies every gradient first (clipping, batch mean)
     */
    void apply(Student student, Gradients g, TrainingConfig c, long step, float lr, float gradScale) {
        float[][] p = student.parameters();
        float[][] grads = {g.tokens, g.bigrams, g.w1, g.b1, g.w2, g.b2, g.fp, g.fb};
        float b1 = c.beta1();
        float b2 = c.beta2();
        float c1 = (float) (1 - Math.pow(b1, step));
        float c2 = (float) (1 - Math.pow(b2, step));
        float stepSize = lr / c1;
        float eps = c.epsilon();
        int dim = g.dim();
        for (int row : g.touchedTokens()) {
            update(p[Student.TOKENS], grads[Student.TOKENS], m[Student.TOKENS], v[Student.TOKENS], row * dim, dim,
                    b1, b2, c2, stepSize, eps, gradScale);
        }
        for (int row : g.touchedBigrams()) {
            update(p[Student.BIGRAMS], grads[Student.BIGRAMS], m[Student.BIGRAMS], v[Student.BIGRAMS], row * dim, dim,
                    b1, b2, c2, stepSize, eps, gradScale);
        }
        for (int i = 2; i < p.length; i++) {
            update(p[i], grads[i], m[i], v[i], 0, p[i].length, b1, b2, c2, stepSize, eps, gradScale);
        }
    }

    /**
     * One Adam update of {@code p[from .. from+n)} with its moments {@code m}, {@code v}: {@code c2} is the second moment's
     * bias correction (1 − β2^step), {@code stepSize} the learning rate over the first's; every architecture's trainer uses it.
     */
    public static void update(float[] p, float[] g, float[] m, float[] v, int from, int n, float b1, float b2,
                              float c2, float stepSize, float eps, float gradScale) {
        float invC2 = 1f / c2;
        for (int i = from; i < from + n; i++) {
            float gi = g[i] * gradScale;
            float mi = b1 * m[i] + (1 - b1) * gi;
            float vi = b2 * v[i] + (1 - b2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] -= stepSize * mi / ((float) Math.sqrt(vi * invC2) + eps);
        }
    }
}
