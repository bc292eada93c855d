package io.streamdistill.student.train;

/**
 * One training or evaluation example: the student's token ids for the text, the teacher's raw
 * output (class logits, or the embedding), the hard label's class index (-1 when none), and its
 * importance weight in a training batch (1 for a record from a fair sample of the stream; 1/p for
 * one that was sent to the teacher with probability p, so the batch's loss stays an unbiased
 * estimate of the loss over the whole stream), and optionally the teacher's pooled embedding
 * ({@code features}) that feature distillation matches.
 */
public record Example(int[] tokenIds, float[] teacher, int label, float weight, float[] features) {
    public Example {
        if (tokenIds == null || teacher == null) {
            throw new IllegalArgumentException("an example needs token ids and a teacher output");
        }
        if (!(weight > 0) || Float.isInfinite(weight)) {
            throw new IllegalArgumentException("an example's weight must be positive and finite, got " + weight);
        }
    }

    public Example(int[] tokenIds, float[] teacher, int label, float weight) {
        this(tokenIds, teacher, label, weight, null);
    }

    public Example(int[] tokenIds, float[] teacher, int label) {
        this(tokenIds, teacher, label, 1f, null);
    }

    /** The same example carrying the teacher's pooled embedding, for feature distillation (null: none). */
    public Example withFeatures(float[] teacherEmbedding) {
        return new Example(tokenIds, teacher, label, weight, teacherEmbedding);
    }

    public static Example unlabelled(int[] tokenIds, float[] teacher) {
        return new Example(tokenIds, teacher, -1);
    }

    public Example withWeight(float w) {
        return new Example(tokenIds, teacher, label, w, features);
    }
}
