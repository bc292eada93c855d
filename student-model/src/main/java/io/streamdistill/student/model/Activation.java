package io.streamdistill.student.model;

/** Nonlinearity of the optional hidden layer; each has an ONNX operator of the same meaning. */
public enum Activation {
    RELU("Relu") {
        @Override
        public float apply(float x) {
            return x > 0 ? x : 0f;
        }

        @Override
        public float derivative(float x, float y) {
            return x > 0 ? 1f : 0f;
        }
    },
    TANH("Tanh") {
        @Override
        public float apply(float x) {
            return (float) Math.tanh(x);
        }

        @Override
        public float derivative(float x, float y) {
            return 1f - y * y;
        }
    };

    private final String onnxOp;

    Activation(String onnxOp) {
        this.onnxOp = onnxOp;
    }

    public abstract float apply(float x);

    /** d activation / d x, given the input x and the output y = apply(x). */
    public abstract float derivative(float x, float y);

    public String onnxOp() {
        return onnxOp;
    }
}
