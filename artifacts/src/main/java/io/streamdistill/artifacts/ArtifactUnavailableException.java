package io.streamdistill.artifacts;

import java.io.IOException;

/**
 * The store holding an artifact could not be reached or answered with a server error: the file may be
 * fine, so a reader waits and tries again instead of refusing the version.
 */
public final class ArtifactUnavailableException extends IOException {
    public ArtifactUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
