package io.streamdistill.schemas.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * Base of every error the registry client and the Avro serde raise. It is a Kafka
 * {@link SerializationException}, so Kafka clients treat it as they treat their own serde errors,
 * and it carries a stable {@link #reason()} code that a dead-letter record can store.
 */
public abstract class SerdeException extends SerializationException {
    private static final long serialVersionUID = 1L;

    protected SerdeException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A stable, machine-readable reason code such as {@code UNKNOWN_SCHEMA_ID}. */
    public abstract String reason();

    /**
     * True when the failure is not the record's: the registry could not be reached, kept failing
     * (5xx) or refused the reader's credentials. Such a record must be read again later, never
     * skipped or dead-lettered; every reader of the topics decides with this one method.
     */
    public boolean isOutage() {
        return false;
    }
}
