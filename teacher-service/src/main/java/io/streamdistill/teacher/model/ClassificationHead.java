package io.streamdistill.teacher.model;

import java.util.List;

/** Turns a teacher's sentence embedding into raw class logits (never probabilities). */
public interface ClassificationHead {
    List<String> classNames();

    float[] logits(float[] embedding);

    /** Identifies the head's content, for the teacher's fingerprint. */
    String fingerprint();
}
