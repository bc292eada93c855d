package io.streamdistill.student.train;

import io.streamdistill.student.model.Task;
import io.streamdistill.student.onnx.OnnxExporter;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;

/**
 * The seam between a student architecture and everything that trains, syncs, saves or publishes it:
 * a student with what it needs to keep training (optimiser state, step count, random state). The
 * trainer job, data-parallel sync, snapshots, replay and export hold a {@code Learner} and never ask
 * which architecture it is; {@link Learners} reads any of them back. Not thread-safe.
 */
public interface Learner {

    /** The architecture family ("bag", "transformer"), for records and logs only. */
    String architecture();

    Task task();

    /** CLASSIFICATION: the class names in output order; empty otherwise. */
    List<String> classNames();

    int outputDim();

    /** A human-readable description of the architecture and its sizes. */
    String describe();

    long parameterCount();

    TrainingConfig training();

    /** A copy with other training settings (architecture, weights and optimiser state stay). */
    Learner withTraining(TrainingConfig other);

    long step();

    /** One optimiser step on the batch (the weighted mean of its examples' losses); its scores before the update. */
    BatchResult train(List<Example> batch);

    /** Scores one example without training on it. */
    Evaluation evaluate(Example e);

    /** The output for one text: probabilities (classification) or the unit embedding. */
    float[] predict(int[] tokenIds);

    /** The whole state, self-describing (the first four bytes say which architecture); flushed, not closed. */
    void writeTo(OutputStream out) throws IOException;

    /** {@link #writeTo} into a byte array. */
    default byte[] toBytes() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try {
            writeTo(bytes);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The student as an ONNX model: {@code input_ids}, {@code attention_mask} → {@code probabilities} or {@code embedding}. */
    byte[] exportOnnx(OnnxExporter.Metadata metadata);

    /**
     * The parameters as data-parallel sync moves them: array 0 is the token table, whose rows of
     * {@link #syncRowWidth()} values move only where a batch's tokens touched them; array 1 is the hashed
     * bigram table (empty where the architecture has none), rows likewise; every later array moves whole.
     * The arrays are the live parameters.
     */
    float[][] syncArrays();

    int syncRowWidth();

    /** Hashed bigram buckets whose rows array 1 holds (0: none). */
    int bigramBuckets();
}
