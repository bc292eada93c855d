package io.streamdistill.schemas.registry;

/** The registry could not be reached until the retry budget ran out. */
public class RegistryUnavailableException extends RegistryException {
    private static final long serialVersionUID = 1L;

    public RegistryUnavailableException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, httpStatus, errorCode, cause);
    }

    @Override
    public String reason() {
        return "REGISTRY_UNAVAILABLE";
    }

    @Override
    public boolean isOutage() {
        return true;
    }
}
