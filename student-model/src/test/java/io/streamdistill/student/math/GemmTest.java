package io.streamdistill.student.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kernel against {@link Gemm#REFERENCE}, on shapes, strides and scalars chosen to reach every edge path. */
class GemmTest {
    /**
     * m, n, k: tiny, odd, k = 1 and 0, empty, exact vector tiles, an attention head (16, 16, 64), and sizes crossing
     * every kernel's k, m and n blocks.
     */
    private static final int[][] SIZES = {
        {1, 1, 1}, {1, 1, 7}, {3, 5, 1}, {4, 5, 0}, {0, 3, 4}, {2, 0, 3}, {7, 13, 5}, {17, 33, 19}, {6, 32, 8},
        {12, 64, 16}, {16, 16, 64}, {13, 47, 300}, {200, 40, 30}, {9, 530, 20}, {7, 1600, 3}, {33, 17, 513}};
    private static final float[] ALPHAS = {1f, -0.75f};
    private static final float[] BETAS = {0f, 1f, 0.5f};

    static Stream<Gemm> kernels() {
        return Kernels.available().stream();
    }

    @Test
    void theTestJvmRunsTheVectorKernel() {
        assertThat(Kernels.vectorApiPresent())
                .as("surefire's argLine must add --add-modules jdk.incubator.vector, so the vector kernel is tested")
                .isTrue();
        assertThat(Kernels.available()).extracting(Gemm::name).anyMatch(name -> name.startsWith("vector"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void everyKernelMatchesTheReference(Gemm kernel) {
        Random random = new Random(42);
        int cases = 0;
        for (int[] size : SIZES) {
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    for (float alpha : ALPHAS) {
                        for (float beta : BETAS) {
                            // Half the cases packed tight from index 0, half with offsets and row strides beyond the columns.
                            boolean padded = random.nextBoolean();
                            compare(kernel, Problem.random(random, transA, transB, size[0], size[1], size[2], alpha, beta, padded));
                            cases++;
                        }
                    }
                }
            }
        }
        assertThat(cases).isEqualTo(SIZES.length * 4 * ALPHAS.length * BETAS.length);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void studentShapesMatchTheReference(Gemm kernel) {
        // The benchmark's shapes at full size, in all three forms, once each.
        Random random = new Random(7);
        compare(kernel, Problem.random(random, false, false, 512, 384, 128, 1f, 0f, false));
        compare(kernel, Problem.random(random, true, false, 384, 512, 512, 1f, 1f, false));
        compare(kernel, Problem.random(random, false, true, 512, 128, 1536, 0.5f, 0f, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void badStridesAndBoundsFailBeforeTouchingC(Gemm kernel) {
        float[] c = {1, 2, 3, 4};
        assertThatThrownBy(() -> kernel.gemm(false, false, 2, 2, 3, 1f, new float[6], 0, 2, new float[6], 0, 2, 0f, c, 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lda");
        assertThatThrownBy(() -> kernel.gemm(false, true, 2, 2, 3, 1f, new float[6], 0, 3, new float[6], 1, 3, 0f, c, 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("B (2x3, offset 1");
        assertThatThrownBy(() -> kernel.gemm(false, false, -1, 2, 3, 1f, new float[6], 0, 3, new float[6], 0, 2, 0f, c, 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("m=-1");
        assertThat(c).containsExactly(1, 2, 3, 4);
    }

    /** Runs the kernel and the reference on copies of the same C; exact outside the matrix, within 1e-4 of the scale inside. */
    private static void compare(Gemm kernel, Problem p) {
        float[] expected = p.c.clone();
        float[] actual = p.c.clone();
        Gemm.REFERENCE.gemm(p.transA, p.transB, p.m, p.n, p.k, p.alpha, p.a, p.aOff, p.lda, p.b, p.bOff, p.ldb, p.beta,
                expected, p.cOff, p.ldc);
        kernel.gemm(p.transA, p.transB, p.m, p.n, p.k, p.alpha, p.a, p.aOff, p.lda, p.b, p.bOff, p.ldb, p.beta, actual, p.cOff,
                p.ldc);
        // The size of each result's terms, |alpha|·|A|·|B| + |beta|·|C|: float rounding grows with it, not with the result.
        float[] scale = abs(p.c);
        Gemm.REFERENCE.gemm(p.transA, p.transB, p.m, p.n, p.k, Math.abs(p.alpha), abs(p.a), p.aOff, p.lda, abs(p.b), p.bOff,
                p.ldb, Math.abs(p.beta), scale, p.cOff, p.ldc);
        List<String> wrong = new ArrayList<>();
        for (int at = 0; at < actual.length; at++) {
            boolean inside = p.inC(at);
            double tolerance = inside ? 1e-4 * scale[at] + 1e-6 : 0;
            boolean ok = inside ? Math.abs(actual[at] - expected[at]) <= tolerance
                    : Float.floatToRawIntBits(actual[at]) == Float.floatToRawIntBits(expected[at]);
            if (!ok && wrong.size() < 5) {
                wrong.add("c[" + at + "] = " + actual[at] + ", expected " + expected[at] + (inside ? "" : " (outside C)"));
            }
        }
        assertThat(wrong).as("%s on %s", kernel.name(), p).isEmpty();
    }

    private static float[] abs(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Math.abs(x[i]);
        }
        return y;
    }

    /** One gemm call's arguments; C's array holds NaN where beta = 0 (it must be ignored) and markers around the matrix. */
    private record Problem(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                           float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        static Problem random(Random random, boolean transA, boolean transB, int m, int n, int k, float alpha, float beta,
                              boolean padded) {
            int aRows = transA ? k : m;
            int aCols = transA ? m : k;
            int bRows = transB ? n : k;
            int bCols = transB ? k : n;
            int lda = Math.max(1, aCols) + (padded ? 1 + random.nextInt(3) : 0);
            int ldb = Math.max(1, bCols) + (padded ? 1 + random.nextInt(3) : 0);
            int ldc = Math.max(1, n) + (padded ? 1 + random.nextInt(3) : 0);
            int aOff = padded ? 1 + random.nextInt(5) : 0;
            int bOff = padded ? 1 + random.nextInt(5) : 0;
            int cOff = padded ? 1 + random.nextInt(5) : 0;
            float[] a = gaussian(random, aOff + aRows * lda + 2);
            float[] b = gaussian(random, bOff + bRows * ldb + 2);
            float[] c = gaussian(random, cOff + m * ldc + 2);
            Problem p = new Problem(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            for (int at = 0; at < c.length; at++) {
                if (!p.inC(at)) {
                    c[at] = 1234.5f;
                } else if (beta == 0f) {
                    c[at] = Float.NaN;
                }
            }
            return p;
        }

        boolean inC(int at) {
            int rel = at - cOff;
            return rel >= 0 && rel / ldc < m && rel % ldc < n;
        }

        private static float[] gaussian(Random random, int size) {
            float[] x = new float[size];
            for (int i = 0; i < size; i++) {
                x[i] = (float) random.nextGaussian();
            }
            return x;
        }

        @Override
        public String toString() {
            return String.format("%s%s m=%d n=%d k=%d alpha=%s beta=%s offsets %d/%d/%d ld %d/%d/%d", transA ? "Aᵀ" : "A",
                    transB ? "Bᵀ" : "B", m, n, k, alpha, beta, aOff, bOff, cOff, lda, ldb, ldc);
        }
    }
}
