package io.streamdistill.student.math;

/** Argument checks, C's scaling by beta and per-thread packing buffers, shared by the kernels. */
final class GemmSupport {
    /** One set of packing buffers per thread: the trainer runs one thread per Flink subtask, and a buffer per call would be garbage. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    private GemmSupport() {
    }

    /**
     * BLAS's checks on the sizes and row strides (as netlib's sgemm does them, so every kernel fails the same way),
     * and that each matrix lies inside its array (so no kernel writes part of C before failing).
     */
    static void check(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff,
                      int ldb, float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm sizes must be >= 0, got m=" + m + " n=" + n + " k=" + k);
        }
        int aRows = transA ? k : m;
        int aCols = transA ? m : k;
        int bRows = transB ? n : k;
        int bCols = transB ? k : n;
        checkMatrix("A", a, aOff, lda, aRows, aCols);
        checkMatrix("B", b, bOff, ldb, bRows, bCols);
        checkMatrix("C", c, cOff, ldc, m, n);
    }

    /**
     * What every kernel does before its product: the checks, then C scaled by beta. Returns whether
     * {@code alpha · op(A) · op(B)} is left to add (false for an empty C, k = 0 or alpha = 0).
     */
    static boolean begin(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda, float[] b,
                         int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        check(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) {
            return false;
        }
        scale(beta, c, cOff, m, n, ldc);
        return k != 0 && alpha != 0f;
    }

    private static void checkMatrix(String name, float[] x, int off, int ld, int rows, int cols) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("gemm: ld" + name.toLowerCase() + " must be >= max(1, " + cols + "), got " + ld);
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        long last = off + (long) (rows - 1) * ld + cols - 1;
        if (off < 0 || last >= x.length) {
            throw new IllegalArgumentException("gemm: " + name + " (" + rows + "x" + cols + ", offset " + off + ", ld " + ld
                    + ") does not fit its array of " + x.length);
        }
    }

    /** C = beta·C; beta = 0 clears C, so NaN or garbage left there never reaches the result. */
    static void scale(float beta, float[] c, int cOff, int m, int n, int ldc) {
        if (beta == 1f) {
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            if (beta == 0f) {
                java.util.Arrays.fill(c, row, row + n, 0f);
            } else {
                for (int j = 0; j < n; j++) {
                    c[row + j] *= beta;
                }
            }
        }
    }

    /** This thread's buffer number {@code which} (0 or 1), at least {@code size} floats long; contents undefined. */
    static float[] scratch(int which, int size) {
        float[][] buffers = SCRATCH.get();
        if (buffers[which].length < size) {
            buffers[which] = new float[size];
        }
        return buffers[which];
    }
}
