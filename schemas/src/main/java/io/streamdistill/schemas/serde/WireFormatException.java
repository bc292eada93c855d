package io.streamdistill.schemas.serde;

/** The bytes of a record do not follow the registry wire format (magic byte, schema id, Avro body). */
public abstract class WireFormatException extends SerdeException {
    private static final long serialVersionUID = 1L;

    protected WireFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
