package io.streamdistill.schemas;

/**
 * Kafka headers on a record a file reader sent as the raw bytes of a line it could not make a text
 * of (invalid UTF-8, a NUL, a CSV row with the wrong number of fields, ...): the teacher dead-letters
 * such a record with the reason and the place named here, so every line of a file is accounted for.
 */
public final class BadLineHeaders {
    /** The problem's code, e.g. {@code INVALID_UTF8}; it becomes the dead letter's reason. */
    public static final String PROBLEM = "streamdistill.bad-line";
    /** Where the line came from: {@code FILE line N (byte offset B): what is wrong}. */
    public static final String WHERE = "streamdistill.bad-line.where";

    private BadLineHeaders() {
    }
}
