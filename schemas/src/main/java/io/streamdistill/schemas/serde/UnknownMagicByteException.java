package io.streamdistill.schemas.serde;


/** The first byte is not the registry wire format's magic byte 0: the record was not written by a schema-registry serializer. */
public class UnknownMagicByteException extends WireFormatException {
    private static final long serialVersionUID = 1L;

    public UnknownMagicByteException(String message) {
        super(message, null);
    }

    public UnknownMagicByteException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String reason() {
        return "WRONG_MAGIC_BYTE";
    }
}
