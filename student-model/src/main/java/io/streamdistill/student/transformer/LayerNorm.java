package io.streamdistill.student.transformer;

/**
 * Layer normalisation over each row of a row-major [rows × width] matrix, BERT's way:
 * {@code y = gamma · (x − mean) / sqrt(var + eps) + beta}, the variance biased (divided by width).
 * The forward pass keeps each row's mean and reciprocal standard deviation for the backward pass.
 */
final class LayerNorm {

    static void forward(float[] x, int rows, int width, float[] gamma, float[] beta, float eps, float[] y,
                        float[] mean, float[] rstd) {
        for (int r = 0; r < rows; r++) {
            int o = r * width;
            double sum = 0;
            for (int i = 0; i < width; i++) {
                sum += x[o + i];
            }
            float m = (float) (sum / width);
            double var = 0;
            for (int i = 0; i < width; i++) {
                double c = x[o + i] - m;
                var += c * c;
            }
            float s = (float) (1.0 / Math.sqrt(var / width + eps));
            mean[r] = m;
            rstd[r] = s;
            for (int i = 0; i < width; i++) {
                y[o + i] = (x[o + i] - m) * s * gamma[i] + beta[i];
            }
        }
    }

    /**
     * From {@code dy} to {@code dx} (written), adding into {@code dGamma} and {@code dBeta}:
     * {@code dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))} with {@code g = dy · gamma}.
     */
    static void backward(float[] dy, float[] x, float[] mean, float[] rstd, float[] gamma, int rows, int width,
                         float[] dx, float[] dGamma, float[] dBeta) {
        for (int r = 0; r < rows; r++) {
            int o = r * width;
            float m = mean[r];
            float s = rstd[r];
            double gMean = 0;
            double gxMean = 0;
            for (int i = 0; i < width; i++) {
                float xhat = (x[o + i] - m) * s;
                float g = dy[o + i] * gamma[i];
                gMean += g;
                gxMean += g * xhat;
                dGamma[i] += dy[o + i] * xhat;
                dBeta[i] += dy[o + i];
            }
            gMean /= width;
            gxMean /= width;
            for (int i = 0; i < width; i++) {
                float xhat = (x[o + i] - m) * s;
                float g = dy[o + i] * gamma[i];
                dx[o + i] = (float) (s * (g - gMean - xhat * gxMean));
            }
        }
    }

    private LayerNorm() {
    }
}
