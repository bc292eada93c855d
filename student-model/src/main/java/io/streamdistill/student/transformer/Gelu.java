package io.streamdistill.student.transformer;

/**
 * BERT's GELU, the exact form {@code x · Φ(x) = 0.5 · x · (1 + erf(x / √2))} (not the tanh
 * approximation), as MiniLM's ONNX graph computes it with its Erf node.
 */
final class Gelu {
    private static final double INV_SQRT2 = 1 / Math.sqrt(2);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

    /**
     * Writes GELU(x) into {@code y} and exp(−x²/2) into {@code gauss}: the one exponential both erf (below) and the
     * backward pass's Gaussian density need, so the pair costs one {@code Math.exp} per value instead of three.
     */
    static void forward(float[] x, float[] y, float[] gauss, int n) {
        for (int i = 0; i < n; i++) {
            double v = x[i];
            double e = Math.exp(-0.5 * v * v);
            gauss[i] = (float) e;
            y[i] = (float) (0.5 * v * (1 + erf(v * INV_SQRT2, e)));
        }
    }

    /** {@code dx = dy · (Φ(x) + x · φ(x))}, with {@code gauss} from {@link #forward}. */
    static void backward(float[] x, float[] gauss, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i++) {
            double v = x[i];
            double e = gauss[i];
            double cdf = 0.5 * (1 + erf(v * INV_SQRT2, e));
            dx[i] = (float) (dy[i] * (cdf + v * INV_SQRT_2PI * e));
        }
    }

    /** erf(z) from exp(−z²) already computed. */
    static double erf(double z, double expMinusZ2) {
        // Abramowitz & Stegun 7.1.26: absolute error below 1.5e-7, past float precision; the JDK has no erf.
        double a = Math.abs(z);
        double t = 1 / (1 + 0.3275911 * a);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double r = 1 - poly * expMinusZ2;
        return z >= 0 ? r : -r;
    }

    static double erf(double z) {
        return erf(z, Math.exp(-z * z));
    }

    private Gelu() {
    }
}
