package io.streamdistill.student.math;

import java.util.Random;

/** Started in a fresh JVM by {@link KernelsTest}: prints the kernel chosen there and whether it computes correctly. */
public final class KernelProbe {
    private KernelProbe() {
    }

    public static void main(String[] args) {
        Gemm kernel = Kernels.gemm();
        int m = 7;
        int n = 37;
        int k = 9;
        Random random = new Random(1);
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) random.nextGaussian();
        }
        float[] expected = new float[m * n];
        float[] actual = new float[m * n];
        Gemm.REFERENCE.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, expected, 0, n);
        kernel.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, actual, 0, n);
        boolean matches = true;
        for (int i = 0; i < actual.length; i++) {
            matches &= Math.abs(actual[i] - expected[i]) <= 1e-4 * (1 + Math.abs(expected[i]));
        }
        System.out.println("chosen: " + kernel.name());
        System.out.println("vector module: " + Kernels.vectorApiPresent());
        System.out.println("matches reference: " + matches);
    }
}
