package io.streamdistill.schemas.registry;

/** The registry refused the credentials (HTTP 401 or 403). */
public class RegistryAuthException extends RegistryException {
    private static final long serialVersionUID = 1L;

    public RegistryAuthException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, httpStatus, errorCode, cause);
    }

    @Override
    public String reason() {
        return "REGISTRY_AUTH";
    }

    @Override
    public boolean isOutage() {
        return true;
    }
}
