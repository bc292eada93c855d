package io.streamdistill.schemas.serde;


/** The record ends before its header or its Avro body does. */
public class TruncatedPayloadException extends WireFormatException {
    private static final long serialVersionUID = 1L;

    public TruncatedPayloadException(String message) {
        super(message, null);
    }

    public TruncatedPayloadException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String reason() {
        return "TRUNCATED";
    }
}
