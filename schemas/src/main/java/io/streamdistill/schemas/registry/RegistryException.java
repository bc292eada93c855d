package io.streamdistill.schemas.registry;

import io.streamdistill.schemas.serde.SerdeException;

/** An error answered by the schema registry, or the registry could not be reached. */
public abstract class RegistryException extends SerdeException {
    private static final long serialVersionUID = 1L;

    private final int httpStatus;
    private final int errorCode;

    protected RegistryException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
    }

    /** The HTTP status the registry answered with, or -1 when it could not be reached. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The registry's own error code (Confluent style, e.g. 40403), or -1 when it gave none. */
    public int errorCode() {
        return errorCode;
    }
}
