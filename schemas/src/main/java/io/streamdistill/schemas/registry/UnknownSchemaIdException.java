package io.streamdistill.schemas.registry;

/** The registry has no schema with the id a record names. */
public class UnknownSchemaIdException extends RegistryException {
    private static final long serialVersionUID = 1L;

    public UnknownSchemaIdException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, httpStatus, errorCode, cause);
    }

    @Override
    public String reason() {
        return "UNKNOWN_SCHEMA_ID";
    }
}
