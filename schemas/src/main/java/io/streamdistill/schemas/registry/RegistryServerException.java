package io.streamdistill.schemas.registry;

/** The registry kept failing with a 5xx status until the retry budget ran out. */
public class RegistryServerException extends RegistryException {
    private static final long serialVersionUID = 1L;

    public RegistryServerException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, httpStatus, errorCode, cause);
    }

    @Override
    public String reason() {
        return "REGISTRY_SERVER_ERROR";
    }

    @Override
    public boolean isOutage() {
        return true;
    }
}
