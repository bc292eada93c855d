package io.streamdistill.schemas.registry;

/** The registry refused a schema it cannot parse. */
public class InvalidSchemaException extends RegistryException {
    private static final long serialVersionUID = 1L;

    public InvalidSchemaException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, httpStatus, errorCode, cause);
    }

    @Override
    public String reason() {
        return "INVALID_SCHEMA";
    }
}
