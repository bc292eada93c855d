package io.streamdistill.schemas.serde;


/** The Avro body cannot be decoded with the schema its id names, or has bytes left over. */
public class MalformedAvroException extends WireFormatException {
    private static final long serialVersionUID = 1L;

    public MalformedAvroException(String message) {
        super(message, null);
    }

    public MalformedAvroException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String reason() {
        return "MALFORMED_AVRO";
    }
}
