package io.streamdistill.schemas.registry;

/** The registry refused a request with another 4xx status. */
public class RegistryRequestException extends RegistryException {
    private static final long serialVersionUID = 1L;

    public RegistryRequestException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, httpStatus, errorCode, cause);
    }

    @Override
    public String reason() {
        return "REGISTRY_REQUEST";
    }
}
