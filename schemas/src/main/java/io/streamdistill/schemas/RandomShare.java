package io.streamdistill.schemas;

import io.streamdistill.records.SoftTarget;

/**
 * Whether a soft target belongs to the random share of the stream: sampling was off, no student was
 * there yet (everything went to the teacher), or adaptive sampling picked it for exploration. Only
 * these are a fair sample, so only these may be held out or used to score a student.
 */
public final class RandomShare {
    /** The {@code SoftTarget.sampling.reason} values that mark the random share. */
    public static final String EXPLORATION = "EXPLORATION";
    public static final String ALL = "ALL";

    public static boolean contains(SoftTarget st) {
        return st.getSampling() == null || st.getSampling().getReason().equals(EXPLORATION)
                || st.getSampling().getReason().equals(ALL);
    }

    private RandomShare() {
    }
}
