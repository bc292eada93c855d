package io.streamdistill.cli;

/** What a command does with a file line it cannot make a text of ({@code --on-bad-line}). */
enum OnBadLine {
    /** Send its raw bytes to the text topic, marked, for the teacher to dead-letter with the reason. */
    SEND,
    /** Leave it out, and count it. */
    SKIP,
    /** Stop before anything is sent, naming the file, line, byte offset and problem. */
    FAIL;

    /** @param canSend whether the command writes to Kafka (only then is {@code send} a choice) */
    static OnBadLine parse(String value, boolean canSend) {
        for (OnBadLine p : values()) {
            if (p.name().equalsIgnoreCase(value) && (p != SEND || canSend)) {
                return p;
            }
        }
        throw new IllegalArgumentException("--on-bad-line must be " + (canSend ? "send, skip or fail" : "skip or fail (this command"
                + " sends nothing to Kafka)") + ", got '" + value + "'");
    }
}
