package io.streamdistill.schemas.registry;

/** The registry refused a schema that breaks the subject's compatibility rule. */
public class IncompatibleSchemaException extends RegistryException {
    private static final long serialVersionUID = 1L;

    public IncompatibleSchemaException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, httpStatus, errorCode, cause);
    }

    @Override
    public String reason() {
        return "INCOMPATIBLE_SCHEMA";
    }
}
