package io.streamdistill.student.train;

/**
 * One training or evaluation example: the student's token ids for the text, the teacher's raw
 * output (class logits, or the embedding), and the hard label's class index (-1 when none).
 */
public record Example(int[] tokenIds, float[] teacher, int label) {
    public Example {
        if (tokenIds == null || teacher == null) {
            throw new IllegalArgumentException("an example needs token ids and a teacher output");
        }
    }

    public static Example unlabelled(int[] tokenIds, float[] teacher) {
        return new Example(tokenIds, teacher, -1);
    }
}
