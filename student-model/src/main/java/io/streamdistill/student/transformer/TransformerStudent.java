package io.streamdistill.student.transformer;

import io.streamdistill.student.model.Task;
import io.streamdistill.student.train.Rng;
import java.util.List;

/**
 * A contextual student: an {@link Encoder} and a head on its pooled vector, as the bag student has
 * (classification: logits → softmax; embedding: a linear map → L2 normalisation). The head's weight
 * is stored [width, outputs], like the encoder's matrices.
 */
public final class TransformerStudent {
    public static final float NORM_EPSILON = 1e-12f;

    private final Task task;
    private final List<String> classNames;
    private final EncoderParams encoder;
    private final float[] headWeight;
    private final float[] headBias;
    private final boolean unitPooled;

    public TransformerStudent(Task task, List<String> classNames, int outputs, EncoderParams encoder) {
        this(task, classNames, outputs, encoder, false);
    }

    /**
     * @param unitPooled whether the head reads the pooled vector scaled to unit length, as a teacher's head on its
     *                   normalised embedding does (so that head can be the student's from the start)
     */
    public TransformerStudent(Task task, List<String> classNames, int outputs, EncoderParams encoder, boolean unitPooled) {
        if (task == Task.CLASSIFICATION && classNames.size() != outputs) {
            throw new IllegalArgumentException("a classification student has one output per class: " + classNames.size()
                    + " classes, " + outputs + " outputs");
        }
        if (outputs < 1) {
            throw new IllegalArgumentException("the student needs at least one output, got " + outputs);
        }
        this.task = task;
        this.classNames = List.copyOf(classNames);
        this.encoder = encoder;
        this.headWeight = new float[encoder.spec().width() * outputs];
        this.headBias = new float[outputs];
        this.unitPooled = unitPooled;
    }

    /** The head from N(0, 0.02²), as BERT initialises a classifier; the encoder as given. */
    public TransformerStudent initHead(long seed) {
        Rng rng = new Rng(seed);
        for (int i = 0; i < headWeight.length; i++) {
            headWeight[i] = (float) (rng.nextGaussian() * 0.02);
        }
        return this;
    }

    public Task task() {
        return task;
    }

    public List<String> classNames() {
        return classNames;
    }

    public int outputs() {
        return headBias.length;
    }

    public EncoderParams encoder() {
        return encoder;
    }

    public float[] headWeight() {
        return headWeight;
    }

    public float[] headBias() {
        return headBias;
    }

    /** Whether the head reads the pooled vector at unit length. */
    public boolean unitPooled() {
        return unitPooled;
    }

    /**
     * A teacher's linear head on the same space as this student's pooled vector: {@code weights[class][width]}
     * (classification) becomes this head, stored [width, classes].
     */
    public TransformerStudent headFrom(float[][] weights, float[] bias) {
        int d = encoder.spec().width();
        if (weights.length != outputs() || weights[0].length != d) {
            throw new IllegalArgumentException("the teacher's head is " + weights.length + "x" + weights[0].length + "; this student's is "
                    + outputs() + "x" + d);
        }
        for (int k = 0; k < outputs(); k++) {
            for (int j = 0; j < d; j++) {
                headWeight[j * outputs() + k] = weights[k][j];
            }
            headBias[k] = bias[k];
        }
        return this;
    }

    public long parameterCount() {
        return encoder.parameterCount() + headWeight.length + headBias.length;
    }

    public String describe() {
        EncoderSpec s = encoder.spec();
        return "transformer " + s.layers() + "x" + s.width() + " (" + s.heads() + " heads, ffn " + s.ffn() + ", " + s.pooling().name()
                .toLowerCase() + " pooling, vocab " + s.vocab() + ") -> " + (task == Task.CLASSIFICATION ? outputs() + " classes"
                : outputs() + "-d embedding");
    }
}
