package io.streamdistill.schemas;

import java.util.List;

/** The topics of the pipeline, in the order data flows through them. */
public final class Topics {
    /** Live text: {@code TextEvent} (Avro through the registry), JSON, or plain UTF-8. */
    public static final String TEXT = "distill.text";
    /** The teacher's raw outputs: {@code SoftTarget}. */
    public static final String SOFT_TARGETS = "distill.soft-targets";
    /** Published students: {@code StudentCheckpoint}, keyed by student name. */
    public static final String CHECKPOINTS = "distill.checkpoints";
    /**
     * Merged sync rounds of a trainer with {@code train.parallelism} > 1 (pointers to delta files, one
     * partition): the trainer's default is its output topic + {@code .sync}, and the trainer creates it.
     */
    public static final String CHECKPOINT_SYNC = CHECKPOINTS + ".sync";
    /** Inputs no stage could use, with the reason: {@code DeadLetter}. */
    public static final String DEAD_LETTERS = "distill.dead-letters";

    /** The monitor's windowed metrics and shadow scores: JSON, keyed by metric kind. */
    public static final String METRICS = "distill.metrics";

    public static final List<String> ALL = List.of(TEXT, SOFT_TARGETS, CHECKPOINTS, DEAD_LETTERS, METRICS);

    /** The registry subject of a topic's values (Confluent's TopicNameStrategy). */
    public static String valueSubject(String topic) {
        return topic + "-value";
    }

    /** The registry subject of a topic's keys (Confluent's TopicNameStrategy). */
    public static String keySubject(String topic) {
        return topic + "-key";
    }

    private Topics() {
    }
}
