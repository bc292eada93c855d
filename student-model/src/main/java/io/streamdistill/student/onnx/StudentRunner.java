package io.streamdistill.student.onnx;

import io.streamdistill.student.Hashing;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.streamdistill.student.tokenize.TextTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Scores text with an exported student in ONNX Runtime. The file's SHA-256 is checked before
 * anything is loaded, when the caller knows what it should be. Thread-safe (ORT sessions are).
 */
public final class StudentRunner implements AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final TextTokenizer tokenizer;
    private final Map<String, String> metadata;
    private final String sha256;

    private StudentRunner(OrtSession session, OrtEnvironment env, TextTokenizer tokenizer, String sha256)
            throws OrtException {
        this.env = env;
        this.session = session;
        this.tokenizer = tokenizer;
        this.sha256 = sha256;
        this.metadata = Map.copyOf(session.getMetadata().getCustomMetadata());
    }

    /**
     * Loads a model file.
     *
     * @param expectedSha256 lower-case hex SHA-256 the file must have, or null to skip the check
     * @param tokenizer      the tokenizer the student was trained with
     * @param threads        ONNX Runtime intra-op threads
     * @throws ArtifactIntegrityException when the file's SHA-256 differs
     */
    public static StudentRunner load(Path model, String expectedSha256, TextTokenizer tokenizer, int threads) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(model);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the student model " + model, e);
        }
        return verified(bytes, expectedSha256, model.toString(), tokenizer, threads);
    }

    /**
     * Loads a model read from {@code source} (a path or URI, for the message) after checking its bytes against the
     * sha256 it was published with (none: not checked).
     *
     * @throws ArtifactIntegrityException when they differ
     */
    public static StudentRunner verified(byte[] bytes, String expectedSha256, String source, TextTokenizer tokenizer, int threads) {
        String actual = Hashing.sha256(bytes);
        if (expectedSha256 != null && !expectedSha256.equalsIgnoreCase(actual)) {
            throw new ArtifactIntegrityException("the student model " + source + " has SHA-256 " + actual + " but was published"
                    + " with " + expectedSha256 + ": the file was altered or cut short after publication. Refusing to load it;"
                    + " fetch the artifact again or use another version.");
        }
        return fromBytes(bytes, actual, tokenizer, threads);
    }

    /**
     * Initialises ONNX Runtime's native library on the calling thread. Its start-up code needs a deep
     * native stack (a bare SIGSEGV on small thread stacks was seen with some class paths): services
     * call this from a big-stack thread before worker threads with default stacks load students.
     */
    public static void initNative() {
        OrtEnvironment.getEnvironment();
    }

    /** Loads a model from bytes already in memory (and, if the caller wanted, already verified). */
    public static StudentRunner fromBytes(byte[] bytes, String sha256, TextTokenizer tokenizer, int threads) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            // Spinning threads burn shared cores for nothing (measured: twice the CPU per sentence).
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            return new StudentRunner(env.createSession(bytes, options), env, tokenizer, sha256);
        } catch (OrtException e) {
            throw new IllegalArgumentException("ONNX Runtime cannot load the student model: " + e.getMessage(), e);
        }
    }

    /** One output row per text: probabilities (classification) or the unit embedding. */
    public float[][] score(List<String> texts) {
        return scoreIds(tokenizer.encode(texts));
    }

    /** Like {@link #score} for texts already tokenised with the student's tokenizer. */
    public float[][] scoreIds(int[][] ids) {
        if (ids.length == 0) {
            return new float[0][];
        }
        TextTokenizer.PaddedBatch batch = TextTokenizer.pad(ids, 0);
        try (OnnxTensor idsTensor = OnnxTensor.createTensor(env, batch.inputIds(), batch.shape());
             OnnxTensor maskTensor = OnnxTensor.createTensor(env, batch.attentionMask(), batch.shape());
             OrtSession.Result result = session.run(Map.of(OnnxExporter.INPUT_IDS, idsTensor,
                     OnnxExporter.ATTENTION_MASK, maskTensor))) {
            FloatBuffer flat = ((OnnxTensor) result.get(0)).getFloatBuffer();
            int width = flat.remaining() / ids.length;
            float[][] out = new float[ids.length][width];
            for (float[] row : out) {
                flat.get(row);
            }
            return out;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed to run the student: " + e.getMessage(), e);
        }
    }

    /** The model's metadata (task, class names, tokenizer, checkpoint version, ...). */
    public Map<String, String> metadata() {
        return metadata;
    }

    public String sha256() {
        return sha256;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot close the ONNX Runtime session", e);
        }
    }
}
