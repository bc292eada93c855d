package io.streamdistill.student.init;

/** The little dense linear algebra the static distillation needs. */
final class Linear {
    /**
     * Solves {@code A X = B} for a symmetric positive-definite n x n {@code a} and an n x k {@code b}
     * (row-major) by Cholesky decomposition; returns X (n x k). {@code a} is left unchanged.
     */
    static double[] solveSymmetric(double[] a, double[] b, int n, int k) {
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * n + j];
                for (int p = 0; p < j; p++) {
                    s -= l[i * n + p] * l[j * n + p];
                }
                if (i == j) {
                    if (s <= 0) {
                        throw new IllegalArgumentException("the calibration system is not positive definite (pivot " + s + ")");
                    }
                    l[i * n + i] = Math.sqrt(s);
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        }
        double[] x = b.clone();
        for (int c = 0; c < k; c++) {
            for (int i = 0; i < n; i++) {
                double s = x[i * k + c];
                for (int p = 0; p < i; p++) {
                    s -= l[i * n + p] * x[p * k + c];
                }
                x[i * k + c] = s / l[i * n + i];
            }
            for (int i = n - 1; i >= 0; i--) {
                double s = x[i * k + c];
                for (int p = i + 1; p < n; p++) {
                    s -= l[p * n + i] * x[p * k + c];
                }
                x[i * k + c] = s / l[i * n + i];
            }
        }
        return x;
    }

    private Linear() {
    }
}
