package io.streamdistill.student.transformer;

import io.streamdistill.student.math.Gemm;

/**
 * A fully connected layer on row-major matrices: {@code y[rows × out] = x[rows × in] · w[in × out] + b}.
 * The weight is stored [in, out], the layout of the MatMul initializers in a Hugging Face ONNX export,
 * so a teacher's layers load without transposing.
 */
final class Dense {

    static void forward(Gemm gemm, float[] x, int rows, int in, float[] w, float[] b, int out, float[] y) {
        gemm.gemm(false, false, rows, out, in, 1f, x, 0, in, w, 0, out, 0f, y, 0, out);
        for (int r = 0; r < rows; r++) {
            int o = r * out;
            for (int j = 0; j < out; j++) {
                y[o + j] += b[j];
            }
        }
    }

    /**
     * {@code dx = dy · wᵀ} (written, or added when {@code accumulateDx}); {@code dw += xᵀ · dy};
     * {@code db += Σ rows of dy}. {@code dx} may be null when nothing flows back to the input.
     */
    static void backward(Gemm gemm, float[] dy, float[] x, float[] w, int rows, int in, int out, float[] dx, boolean accumulateDx,
                         float[] dw, float[] db) {
        if (dx != null) {
            gemm.gemm(false, true, rows, in, out, 1f, dy, 0, out, w, 0, out, accumulateDx ? 1f : 0f, dx, 0, in);
        }
        gemm.gemm(true, false, in, out, rows, 1f, x, 0, in, dy, 0, out, 1f, dw, 0, out);
        for (int r = 0; r < rows; r++) {
            int o = r * out;
            for (int j = 0; j < out; j++) {
                db[j] += dy[o + j];
            }
        }
    }

    private Dense() {
    }
}
