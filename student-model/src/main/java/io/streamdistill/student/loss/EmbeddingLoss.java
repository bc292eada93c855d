package io.streamdistill.student.loss;

/** How an embedding student is compared with the teacher's vector (both L2-normalised). */
public enum EmbeddingLoss {
    /** 1 - cos(student, teacher). */
    COSINE,
    /** Mean squared error between the unit vectors. */
    MSE
}
