package io.streamdistill.teacher.model;

/** How token vectors become one sentence vector. */
public enum Pooling {
    /** Mean over the real (unmasked) tokens: MiniLM, e5. */
    MEAN,
    /** The first token's vector ([CLS]): bge. */
    CLS
}
