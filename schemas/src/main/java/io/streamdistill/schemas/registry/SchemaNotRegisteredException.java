package io.streamdistill.schemas.registry;

/** The subject, version or schema asked for is not registered (and auto-registration is off). */
public class SchemaNotRegisteredException extends RegistryException {
    private static final long serialVersionUID = 1L;

    public SchemaNotRegisteredException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, httpStatus, errorCode, cause);
    }

    @Override
    public String reason() {
        return "SCHEMA_NOT_REGISTERED";
    }
}
