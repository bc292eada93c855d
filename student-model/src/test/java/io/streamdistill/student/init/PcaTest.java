package io.streamdistill.student.init;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamdistill.student.train.Rng;
import org.junit.jupiter.api.Test;

class PcaTest {

    /** Rows with a known covariance: the basis is orthonormal and finds the directions by decreasing variance. */
    @Test
    void theBasisIsOrthonormalAndOrderedByVariance() {
        int n = 4000;
        int m = 12;
        Rng rng = new Rng(3);
        float[] rows = new float[n * m];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                // Independent coordinates with standard deviations 12, 11, ..., 1, plus an offset.
                rows[i * m + j] = (float) (rng.nextGaussian() * (m - j) + 5 + j);
            }
        }
        Pca pca = Pca.fit(rows, n, m, 5, null);
        for (int a = 0; a < 5; a++) {
            for (int b = 0; b < 5; b++) {
                double dot = 0;
                for (int j = 0; j < m; j++) {
                    dot += (double) pca.basis()[a * m + j] * pca.basis()[b * m + j];
                }
                assertThat(dot).as("basis rows %d . %d", a, b).isCloseTo(a == b ? 1 : 0, within(1e-5));
            }
            // Row a points along coordinate a (the a-th largest standard deviation).
            assertThat(Math.abs(pca.basis()[a * m + a])).isGreaterThan(0.9f);
            assertThat(pca.variances()[a]).isCloseTo((m - a) * (m - a), within(0.12 * (m - a) * (m - a)));
        }
        assertThat(pca.mean()[3]).isCloseTo(8f, within(0.5f));
        double total = 0;
        for (int j = 0; j < m; j++) {
            total += (m - j) * (m - j);
        }
        assertThat(pca.explained()).isCloseTo((144 + 121 + 100 + 81 + 64) / total, within(0.03));
    }

    @Test
    void jacobiDiagonalisesASymmetricMatrix() {
        int n = 7;
        Rng rng = new Rng(11);
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                a[i * n + j] = a[j * n + i] = rng.nextGaussian();
            }
        }
        double[] original = a.clone();
        double[] v = new double[n * n];
        double[] values = Pca.jacobi(a, n, v);
        // A v_k = lambda_k v_k for every column k.
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < n; i++) {
                double av = 0;
                for (int j = 0; j < n; j++) {
                    av += original[i * n + j] * v[j * n + k];
                }
                assertThat(av).isCloseTo(values[k] * v[i * n + k], within(1e-9));
            }
        }
    }

    @Test
    void aDimensionWiderThanTheRowsIsRefused() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Pca.fit(new float[20], 5, 4, 5, null))
                .hasMessageContaining("PCA dimension must be in 1..4");
    }
}
