package io.streamdistill.student.math;

/**
 * Plain Java, for JVMs without the Vector API module. HotSpot's C2 (Java 17) turns a loop into SIMD code only when
 * its arrays are indexed from 0: {@code c[j] += x * b[j]} is vectorised, {@code c[cAt + j] += x * b[bAt + j]} is not
 * (measured: 12 against 2 GFLOP/s). So a block of op(B) is copied into one array per row, four rows of C are
 * accumulated in arrays of their own, and the inner loop adds one row of B, scaled by four elements of A, to the
 * four rows of C (one load of B per four multiply-adds). Blocks of k and n keep the copied part of B in L2.
 */
final class PlainGemm implements Gemm {
    static final PlainGemm INSTANCE = new PlainGemm();

    private static final int KC = 256;
    private static final int NC = 256;
    private static final int ROWS = 4;
    /** Per thread: KC rows of op(B), then ROWS accumulator rows of C, each NC long. */
    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(() -> new float[KC + ROWS][NC]);

    private PlainGemm() {
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (!GemmSupport.begin(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc)) {
            return;
        }
        float[][] buffers = BUFFERS.get();
        float[][] acc = {buffers[KC], buffers[KC + 1], buffers[KC + 2], buffers[KC + 3]};
        // Element (i, p) of op(A) is a[aOff + i * aRow + p * aCol].
        int aRow = transA ? 1 : lda;
        int aCol = transA ? lda : 1;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                for (int p = 0; p < kc; p++) {
                    float[] row = buffers[p];
                    if (transB) {
                        int from = bOff + jc * ldb + pc + p;
                        for (int j = 0; j < nc; j++) {
                            row[j] = b[from + j * ldb];
                        }
                    } else {
                        System.arraycopy(b, bOff + (pc + p) * ldb + jc, row, 0, nc);
                    }
                }
                for (int i0 = 0; i0 < m; i0 += ROWS) {
                    int rows = Math.min(ROWS, m - i0);
                    for (int r = 0; r < rows; r++) {
                        System.arraycopy(c, cOff + (i0 + r) * ldc + jc, acc[r], 0, nc);
                    }
                    int aAt = aOff + i0 * aRow + pc * aCol;
                    if (rows == ROWS) {
                        for (int p = 0; p < kc; p++, aAt += aCol) {
                            axpy4(nc, alpha * a[aAt], alpha * a[aAt + aRow], alpha * a[aAt + 2 * aRow], alpha * a[aAt + 3 * aRow],
                                    buffers[p], acc[0], acc[1], acc[2], acc[3]);
                        }
                    } else {
                        for (int r = 0; r < rows; r++) {
                            int at = aAt + r * aRow;
                            for (int p = 0; p < kc; p++, at += aCol) {
                                axpy(nc, alpha * a[at], buffers[p], acc[r]);
                            }
                        }
                    }
                    for (int r = 0; r < rows; r++) {
                        System.arraycopy(acc[r], 0, c, cOff + (i0 + r) * ldc + jc, nc);
                    }
                }
            }
        }
    }

    /** c0..c3 += x0..x3 · b over the first n elements. */
    private static void axpy4(int n, float x0, float x1, float x2, float x3, float[] b, float[] c0, float[] c1, float[] c2,
                              float[] c3) {
        for (int j = 0; j < n; j++) {
            float y = b[j];
            c0[j] += x0 * y;
            c1[j] += x1 * y;
            c2[j] += x2 * y;
            c3[j] += x3 * y;
        }
    }

    private static void axpy(int n, float x, float[] b, float[] c) {
        for (int j = 0; j < n; j++) {
            c[j] += x * b[j];
        }
    }

    @Override
    public String name() {
        return "plain";
    }
}
