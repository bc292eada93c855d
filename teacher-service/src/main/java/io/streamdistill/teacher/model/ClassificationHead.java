package io.streamdistill.teacher.model;

import java.util.List;

/** Turns a teacher's sentence embedding into raw class logits (never probabilities). */
public interface ClassificationHead {
    List<String> classNames();

    float[] logits(float[] embedding);

    /** Identifies the head's content, for the teacher's fingerprint. */
    String fingerprint();

    /**
     * The head as {@code logits = W e + b} in the teacher's space, what a warm-started student
     * composes with its basis.
     *
     * @param unitInput whether the embeddings it is given are unit length (the encoder normalises)
     */
    io.streamdistill.student.init.WarmStart.TeacherHead linear(boolean unitInput);
}
