package io.streamdistill.schemas.serde;


/** The writer's schema cannot be read as the expected record type: a record of another type is on the topic. */
public class SchemaMismatchException extends SerdeException {
    private static final long serialVersionUID = 1L;

    public SchemaMismatchException(String message) {
        super(message, null);
    }

    public SchemaMismatchException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String reason() {
        return "WRONG_RECORD_TYPE";
    }
}
