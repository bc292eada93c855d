package io.streamdistill.student.math;

/**
 * Single-precision general matrix multiply on row-major arrays, with BLAS's sgemm semantics:
 * {@code C = alpha · op(A) · op(B) + beta · C}, where {@code op(X)} is X or its transpose, {@code op(A)}
 * is m×k, {@code op(B)} is k×n and C is m×n. {@code lda}, {@code ldb}, {@code ldc} are the row strides
 * of the arrays as stored (the number of columns of A, B, C as stored, or more), and the offsets say
 * where each matrix starts. With {@code beta = 0}, C's previous contents are ignored (even NaN).
 */
public interface Gemm {
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
              float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc);

    /** A short name for logs and benchmark tables. */
    String name();

    /** The reference: three plain loops in the textbook order. Slow; tests compare every kernel with it. */
    Gemm REFERENCE = new Gemm() {
        @Override
        public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                         float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        float x = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                        float y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                        sum += (double) x * y;
                    }
                    int at = cOff + i * ldc + j;
                    c[at] = (float) (alpha * sum + (beta == 0 ? 0 : beta * c[at]));
                }
            }
        }

        @Override
        public String name() {
            return "reference";
        }
    };
}
