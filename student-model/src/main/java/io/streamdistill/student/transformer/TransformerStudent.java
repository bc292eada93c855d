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

    public TransformerStudent(Task task, List<String> classNames, int outputs, EncoderParams encoder) {
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
