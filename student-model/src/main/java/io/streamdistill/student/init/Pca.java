package io.streamdistill.student.init;

/**
 * Principal component analysis of row vectors: the mean, and the top {@code d} eigenvectors of the
 * covariance as an orthonormal basis (rows). The covariance is accumulated in double and
 * diagonalised with cyclic Jacobi rotations, which is exact to rounding for the few hundred
 * dimensions of a teacher's embedding and needs no linear-algebra library.
 *
 * @param mean      the rows' mean, length m
 * @param basis     d rows of length m, orthonormal, by decreasing variance ({@code basis[k * m + j]})
 * @param variances the variance along each basis row
 * @param explained the share of the total variance the d rows keep
 */
public record Pca(float[] mean, float[] basis, int dim, double[] variances, double explained) {

    /**
     * Fits a PCA of {@code n} rows of width {@code m} stored row-major in {@code rows}, using only
     * the rows where {@code use} is true (null: all).
     */
    public static Pca fit(float[] rows, int n, int m, int d, boolean[] use) {
        if (d < 1 || d > m) {
            throw new IllegalArgumentException("the PCA dimension must be in 1.." + m + " (the teacher's width), got " + d);
        }
        double[] mean = new double[m];
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (use == null || use[i]) {
                count++;
                for (int j = 0; j < m; j++) {
                    mean[j] += rows[i * m + j];
                }
            }
        }
        if (count < 2) {
            throw new IllegalArgumentException("a PCA needs at least 2 rows, got " + count);
        }
        for (int j = 0; j < m; j++) {
            mean[j] /= count;
        }
        double[] cov = new double[m * m];
        double[] centred = new double[m];
        for (int i = 0; i < n; i++) {
            if (use != null && !use[i]) {
                continue;
            }
            for (int j = 0; j < m; j++) {
                centred[j] = rows[i * m + j] - mean[j];
            }
            for (int a = 0; a < m; a++) {
                double ca = centred[a];
                int row = a * m;
                for (int b = a; b < m; b++) {
                    cov[row + b] += ca * centred[b];
                }
            }
        }
        for (int a = 0; a < m; a++) {
            for (int b = a; b < m; b++) {
                double v = cov[a * m + b] / (count - 1);
                cov[a * m + b] = v;
                cov[b * m + a] = v;
            }
        }
        double[] vectors = new double[m * m];
        double[] values = jacobi(cov, m, vectors);
        Integer[] order = new Integer[m];
        for (int i = 0; i < m; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(values[y], values[x]));
        float[] basis = new float[d * m];
        double[] kept = new double[d];
        double total = 0;
        for (double v : values) {
            total += Math.max(0, v);
        }
        double keptSum = 0;
        for (int k = 0; k < d; k++) {
            int col = order[k];
            kept[k] = Math.max(0, values[col]);
            keptSum += kept[k];
            // Sign convention: the largest component positive, so the same data gives the same basis.
            int largest = 0;
            for (int j = 1; j < m; j++) {
                if (Math.abs(vectors[j * m + col]) > Math.abs(vectors[largest * m + col])) {
                    largest = j;
                }
            }
            double sign = vectors[largest * m + col] < 0 ? -1 : 1;
            for (int j = 0; j < m; j++) {
                basis[k * m + j] = (float) (sign * vectors[j * m + col]);
            }
        }
        float[] meanF = new float[m];
        for (int j = 0; j < m; j++) {
            meanF[j] = (float) mean[j];
        }
        return new Pca(meanF, basis, d, kept, total == 0 ? 1 : keptSum / total);
    }

    /** Width of the input rows. */
    public int width() {
        return mean.length;
    }

    /** {@code basis (x - mean)} into {@code out} (length d). */
    public void project(float[] x, int offset, float[] out) {
        int m = mean.length;
        for (int k = 0; k < dim; k++) {
            double s = 0;
            int row = k * m;
            for (int j = 0; j < m; j++) {
                s += basis[row + j] * (x[offset + j] - mean[j]);
            }
            out[k] = (float) s;
        }
    }

    /**
     * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations. {@code a} is destroyed;
     * the eigenvectors go into the columns of {@code v}; returns the eigenvalues.
     */
    static double[] jacobi(double[] a, int n, double[] v) {
        for (int i = 0; i < n; i++) {
            v[i * n + i] = 1;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            double diag = 0;
            for (int p = 0; p < n; p++) {
                diag += a[p * n + p] * a[p * n + p];
                for (int q = p + 1; q < n; q++) {
                    off += a[p * n + q] * a[p * n + q];
                }
            }
            if (off <= 1e-22 * Math.max(diag, 1e-300)) {
                break;
            }
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = a[p * n + q];
                    if (Math.abs(apq) < 1e-300) {
                        continue;
                    }
                    double app = a[p * n + p];
                    double aqq = a[q * n + q];
                    double theta = (aqq - app) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k * n + p];
                        double akq = a[k * n + q];
                        a[k * n + p] = c * akp - s * akq;
                        a[k * n + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p * n + k];
                        double aqk = a[q * n + k];
                        a[p * n + k] = c * apk - s * aqk;
                        a[q * n + k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k * n + p];
                        double vkq = v[k * n + q];
                        v[k * n + p] = c * vkp - s * vkq;
                        v[k * n + q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = a[i * n + i];
        }
        return values;
    }
}
