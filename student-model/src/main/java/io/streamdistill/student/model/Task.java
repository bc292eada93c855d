package io.streamdistill.student.model;

/** What a student predicts. */
public enum Task {
    /** K classes; the student outputs probabilities (softmax). */
    CLASSIFICATION,
    /** A vector in the teacher's embedding space; the student outputs it L2-normalised. */
    EMBEDDING
}
