package io.streamdistill.student.math;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The JDK Vector API (incubator module {@code jdk.incubator.vector}), in the GotoBLAS/BLIS layout: blocks of op(B)
 * and op(A) are packed into panels (alpha folded into A, edges padded with zeros), and a register-blocked
 * micro-kernel keeps an MR × (2 vectors) tile of C in registers while it walks k with FMAs, loading each C element
 * once per block of k instead of once per multiply-add. The species is the CPU's preferred one (8 floats with
 * AVX2, 16 with AVX-512); MR = 6 keeps the 12 accumulators, 2 B vectors and the broadcast inside AVX2's 16
 * registers. Taller tiles were measured on AVX-512 (32 registers) and lost: MR = 8 ran 4× and MR = 12 8× slower,
 * as C2 on Java 17 stops keeping the accumulators in registers.
 *
 * <p>Only {@link Kernels} loads this class, by name, after checking that the module is in the boot layer: a JVM
 * started without {@code --add-modules jdk.incubator.vector} never resolves it.
 */
final class VectorGemm implements Gemm {
    static final VectorGemm INSTANCE = new VectorGemm();

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int L = SPECIES.length();
    private static final int MR = 6;
    private static final int NR = 2 * L;
    /** k per block: a packed B micro-panel (KC × NR) stays in L1 while the A micro-panels stream past it. */
    private static final int KC = 256;
    /** Rows of A per packed block (a multiple of MR): KC × MC floats, for L2. */
    private static final int MC = 96;
    /** Columns of B per packed block (a multiple of NR): the student's widest layer, 1536, in one block. */
    private static final int NC = 1536;
    /**
     * Up to this many rows of C, an untransposed B is read where it lies: packing it would cost about as much as the
     * product (batch 1: 16 × 384 · 384 × 384 ran 1.3× faster unpacked). With more rows the copy pays for itself, and
     * reading B in place would walk strides like 1536 floats that map whole panels onto a few L1 cache sets.
     */
    private static final int UNPACKED_B_MAX_M = 32;

    private VectorGemm() {
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (!GemmSupport.begin(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc)) {
            return;
        }
        if (!transA && transB && n < NR && k >= L) {
            dots(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
            return;
        }
        float[] tile = new float[MR * NR];
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            int bPanels = (nc + NR - 1) / NR;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                float[] bp = GemmSupport.scratch(0, bPanels * kc * NR);
                // In place, only whole panels are read: a last, narrower one is still packed with its zero padding.
                boolean inPlace = !transB && m <= UNPACKED_B_MAX_M;
                packB(transB, b, bOff, ldb, pc, jc, kc, nc, inPlace ? nc / NR : 0, bp);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    int aPanels = (mc + MR - 1) / MR;
                    float[] ap = GemmSupport.scratch(1, aPanels * kc * MR);
                    packA(transA, alpha, a, aOff, lda, ic, pc, mc, kc, ap);
                    for (int q = 0; q < bPanels; q++) {
                        int cols = Math.min(NR, nc - q * NR);
                        boolean direct = inPlace && cols == NR;
                        float[] bPanel = direct ? b : bp;
                        int bAt = direct ? bOff + pc * ldb + jc + q * NR : q * kc * NR;
                        int bStride = direct ? ldb : NR;
                        for (int s = 0; s < aPanels; s++) {
                            int rows = Math.min(MR, mc - s * MR);
                            int cAt = cOff + (ic + s * MR) * ldc + jc + q * NR;
                            if (rows == MR && cols == NR) {
                                kernel(kc, ap, s * kc * MR, bPanel, bAt, bStride, c, cAt, ldc);
                            } else {
                                // An edge tile goes through a full-size buffer, so the kernel never needs masks.
                                java.util.Arrays.fill(tile, 0f);
                                kernel(kc, ap, s * kc * MR, bPanel, bAt, bStride, tile, 0, NR);
                                for (int r = 0; r < rows; r++) {
                                    for (int j = 0; j < cols; j++) {
                                        c[cAt + r * ldc + j] += tile[r * NR + j];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** C's MR × NR tile at cAt += (A micro-panel, kc × MR interleaved) · (B micro-panel: kc rows of NR, bStride apart). */
    private static void kernel(int kc, float[] ap, int aAt, float[] bp, int bAt, int bStride, float[] c, int cAt, int ldc) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        for (int p = 0; p < kc; p++, aAt += MR, bAt += bStride) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, bp, bAt);
            FloatVector b1 = FloatVector.fromArray(SPECIES, bp, bAt + L);
            FloatVector x = FloatVector.broadcast(SPECIES, ap[aAt]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(SPECIES, ap[aAt + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(SPECIES, ap[aAt + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(SPECIES, ap[aAt + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(SPECIES, ap[aAt + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(SPECIES, ap[aAt + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        addRow(c, cAt, c00, c01);
        addRow(c, cAt + ldc, c10, c11);
        addRow(c, cAt + 2 * ldc, c20, c21);
        addRow(c, cAt + 3 * ldc, c30, c31);
        addRow(c, cAt + 4 * ldc, c40, c41);
        addRow(c, cAt + 5 * ldc, c50, c51);
    }

    /**
     * C += alpha·A·Bᵀ as one dot product per element, for products narrower than a tile, such as an attention head's
     * scores Q·Kᵀ (16 × 64 · 16 × 64ᵀ): rows of A and of B both run along k, so nothing is packed and no lane is
     * padding (measured there: 10 GFLOP/s against 5 for the tiled path).
     */
    private static void dots(int m, int n, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float[] c, int cOff, int ldc) {
        int whole = SPECIES.loopBound(k);
        for (int i = 0; i < m; i++) {
            int aRow = aOff + i * lda;
            for (int j = 0; j < n; j++) {
                int bRow = bOff + j * ldb;
                FloatVector sum = FloatVector.zero(SPECIES);
                int p = 0;
                for (; p < whole; p += L) {
                    sum = FloatVector.fromArray(SPECIES, a, aRow + p).fma(FloatVector.fromArray(SPECIES, b, bRow + p), sum);
                }
                float dot = sum.reduceLanes(VectorOperators.ADD);
                for (; p < k; p++) {
                    dot += a[aRow + p] * b[bRow + p];
                }
                c[cOff + i * ldc + j] += alpha * dot;
            }
        }
    }

    private static void addRow(float[] c, int at, FloatVector v0, FloatVector v1) {
        FloatVector.fromArray(SPECIES, c, at).add(v0).intoArray(c, at);
        FloatVector.fromArray(SPECIES, c, at + L).add(v1).intoArray(c, at + L);
    }

    /**
     * op(B)[pc.., jc..] (kc × nc) into panels of NR columns, each kc × NR row after row, the last one zero-padded;
     * panels before {@code firstPanel} are left out.
     */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int jc, int kc, int nc, int firstPanel,
                              float[] out) {
        int at = firstPanel * kc * NR;
        for (int j0 = firstPanel * NR; j0 < nc; j0 += NR) {
            int cols = Math.min(NR, nc - j0);
            for (int p = 0; p < kc; p++, at += NR) {
                if (transB) {
                    int src = bOff + (jc + j0) * ldb + pc + p;
                    for (int j = 0; j < cols; j++) {
                        out[at + j] = b[src + j * ldb];
                    }
                } else {
                    System.arraycopy(b, bOff + (pc + p) * ldb + jc + j0, out, at, cols);
                }
                for (int j = cols; j < NR; j++) {
                    out[at + j] = 0f;
                }
            }
        }
    }

    /** alpha·op(A)[ic.., pc..] (mc × kc) into panels of MR rows, each kc × MR column after column, zero-padded. */
    private static void packA(boolean transA, float alpha, float[] a, int aOff, int lda, int ic, int pc, int mc, int kc,
                              float[] out) {
        int at = 0;
        for (int i0 = 0; i0 < mc; i0 += MR) {
            int rows = Math.min(MR, mc - i0);
            for (int p = 0; p < kc; p++, at += MR) {
                for (int r = 0; r < rows; r++) {
                    int i = ic + i0 + r;
                    out[at + r] = alpha * (transA ? a[aOff + (pc + p) * lda + i] : a[aOff + i * lda + pc + p]);
                }
                for (int r = rows; r < MR; r++) {
                    out[at + r] = 0f;
                }
            }
        }
    }

    @Override
    public String name() {
        return "vector (" + L + " floats)";
    }
}
