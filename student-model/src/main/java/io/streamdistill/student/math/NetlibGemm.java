package io.streamdistill.student.math;

import dev.ludovic.netlib.blas.BLAS;

/**
 * {@code dev.ludovic.netlib:blas} (Spark's BLAS), which picks its own implementation when first used: a native BLAS
 * through JNI where the system has one, else its Java code ({@code VectorBLAS} with the Vector API module,
 * {@code Java11BLAS} without). It is column-major: a row-major matrix read column-major is its transpose, so
 * row-major C = op(A)·op(B) is computed as column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, operands swapped along with m and n.
 */
final class NetlibGemm implements Gemm {
    static final NetlibGemm INSTANCE = new NetlibGemm();

    private final BLAS blas = BLAS.getInstance();

    private NetlibGemm() {
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        // Our own checks first, so a bad call fails here as in the other kernels and not half-way inside netlib.
        GemmSupport.check(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            // netlib's bounds check reads an empty A's last element at index -1 and throws.
            GemmSupport.scale(beta, c, cOff, m, n, ldc);
            return;
        }
        blas.sgemm(transB ? "T" : "N", transA ? "T" : "N", n, m, k, alpha, b, bOff, ldb, a, aOff, lda, beta, c, cOff, ldc);
    }

    /** The implementation netlib chose in this JVM, e.g. {@code VectorBLAS}. */
    String implementation() {
        return blas.getClass().getSimpleName();
    }

    @Override
    public String name() {
        return "netlib (" + implementation() + ")";
    }
}
