package io.streamdistill.student.transformer;

/**
 * BERT's GELU, the exact form {@code x · Φ(x) = 0.5 · x · (1 + erf(x / √2))} (not the tanh
 * approximation), as MiniLM's ONNX graph computes it with its Erf node.
 */
final class Gelu {
    private static final double INV_SQRT2 = 1 / Math.sqrt(2);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

    static void forward(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            double v = x[i];
            y[i] = (float) (0.5 * v * (1 + erf(v * INV_SQRT2)));
        }
    }

    /** {@code dx = dy · (Φ(x) + x · φ(x))}. */
    static void backward(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i++) {
            double v = x[i];
            double cdf = 0.5 * (1 + erf(v * INV_SQRT2));
            double pdf = INV_SQRT_2PI * Math.exp(-0.5 * v * v);
            dx[i] = (float) (dy[i] * (cdf + v * pdf));
        }
    }

    /**
     * erf from the Chebyshev fit of erfc in Numerical Recipes (fractional error below 1.2e-7
     * everywhere), past float precision; the JDK has none.
     */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223
                + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc : erfc - 1;
    }

    private Gelu() {
    }
}
