package io.streamdistill.student.onnx;

/** A model file's SHA-256 is not the one it was published with: it was altered or cut short. */
public class ArtifactIntegrityException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public ArtifactIntegrityException(String message) {
        super(message);
    }
}
