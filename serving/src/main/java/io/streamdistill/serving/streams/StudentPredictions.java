package io.streamdistill.serving.streams;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.records.DeadLetter;
import io.streamdistill.serving.Cascade;
import io.streamdistill.serving.ModelHolder;
import io.streamdistill.serving.ServedModel;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * A student as a Kafka Streams processor: texts in (the value is the text, UTF-8; the key is kept), one
 * prediction out per text, written by the version that is current when the text is scored and naming it.
 * The version comes from a {@link ModelHolder} that a follower keeps at the newest verified version, so
 * new versions are picked up between records while the application runs. A value that is no usable text
 * (null, invalid UTF-8, empty, too long) goes to the dead-letter topic with its reason; nothing is dropped.
 * Under {@code processing.guarantee=exactly_once_v2} each input's prediction or dead letter is committed
 * with its input offset, once.
 */
public final class StudentPredictions {
    static final String SOURCE = "texts";
    static final String PREDICT = "predict";
    static final String PREDICTIONS = "predictions";
    static final String DEAD_LETTERS = "dead-letters";
    /** The service name dead letters carry. */
    public static final String SERVICE = "streamdistill-classify-stream";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where texts come from and where predictions and dead letters go. */
    public record Topics(String input, String output, String deadLetters) {
    }

    /** Turns one text into its answer: the version that gave it and the fields written. */
    @FunctionalInterface
    public interface Predictor {
        Answer predict(String text);
    }

    /** One text's answer, from one version. */
    public record Answer(String student, long version, Map<String, Object> fields) {
    }

    /**
     * What the processor has written so far (all stream threads together), including what a failed transaction
     * then aborted: a progress figure, not a count of committed records.
     */
    public static final class Counts {
        private final AtomicLong predictions = new AtomicLong();
        private final AtomicLong deadLetters = new AtomicLong();
        private volatile long lastVersion = -1;

        public long predictions() {
            return predictions.get();
        }

        public long deadLetters() {
            return deadLetters.get();
        }

        /** The version of the newest prediction written, or -1. */
        public long lastVersion() {
            return lastVersion;
        }
    }

    /**
     * Answers from the holder's current version, leased for the one text. While no version is loaded yet it
     * waits up to {@code firstVersionWait}, then fails (the stream thread fails and its records are read again),
     * never answers without a model.
     */
    public static Predictor fromHolder(ModelHolder holder, Duration firstVersionWait) {
        return fromHolder(holder, firstVersionWait, null);
    }

    /**
     * Like {@link #fromHolder(ModelHolder, Duration)}, through a cascade when one is given: the teacher answers a text the
     * version is unsure of, and the answer says who gave it ({@code answered_by}).
     */
    public static Predictor fromHolder(ModelHolder holder, Duration firstVersionWait, Cascade cascade) {
        return text -> {
            long deadline = System.nanoTime() + firstVersionWait.toNanos();
            while (true) {
                try (ModelHolder.Lease lease = holder.acquire()) {
                    if (lease != null) {
                        ServedModel m = lease.model();
                        float[][] out = m.score(List.of(text));
                        if (cascade == null || !m.task().equals("CLASSIFICATION")) {
                            return new Answer(m.student(), m.version(), m.answer(out[0]));
                        }
                        Cascade.Answer a = cascade.answer(m, List.of(text), out).get(0);
                        Map<String, Object> fields = m.answer(a.probabilities());
                        fields.put("answered_by", a.byTeacher() ? "teacher" : "student");
                        return new Answer(m.student(), m.version(), fields);
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no student version was loaded within " + firstVersionWait.toSeconds()
                            + " s; nothing is answered without one");
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for the first student version", e);
                }
            }
        };
    }

    /**
     * The topology: {@code topics.input()} → predict → {@code topics.output()} (JSON: student, version and the
     * answer) or {@code topics.deadLetters()} (a registry-framed {@link DeadLetter}).
     *
     * @param deadLetterBytes how a dead letter becomes bytes (the registry's Avro serializer for the dead-letter topic)
     * @param maxTextChars    longer texts are dead letters (TEXT_TOO_LONG)
     */
    public static Topology topology(Topics topics, Predictor predictor, Function<DeadLetter, byte[]> deadLetterBytes, int maxTextChars,
                                    Counts counts) {
        Topology t = new Topology();
        t.addSource(SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), topics.input());
        t.addProcessor(PREDICT, () -> new Predict(predictor, deadLetterBytes, maxTextChars, counts), SOURCE);
        t.addSink(PREDICTIONS, topics.output(), new ByteArraySerializer(), new ByteArraySerializer(), PREDICT);
        t.addSink(DEAD_LETTERS, topics.deadLetters(), new ByteArraySerializer(), new ByteArraySerializer(), PREDICT);
        return t;
    }

    private static final class Predict implements Processor<byte[], byte[], byte[], byte[]> {
        private final Predictor predictor;
        private final Function<DeadLetter, byte[]> deadLetterBytes;
        private final int maxTextChars;
        private final Counts counts;
        private ProcessorContext<byte[], byte[]> context;

        Predict(Predictor predictor, Function<DeadLetter, byte[]> deadLetterBytes, int maxTextChars, Counts counts) {
            this.predictor = predictor;
            this.deadLetterBytes = deadLetterBytes;
            this.maxTextChars = maxTextChars;
            this.counts = counts;
        }

        @Override
        public void init(ProcessorContext<byte[], byte[]> context) {
            this.context = context;
        }

        @Override
        public void process(Record<byte[], byte[]> r) {
            String text;
            if (r.value() == null) {
                deadLetter(r, "NULL_VALUE", "the record has no value (a tombstone?): there is no text to answer");
                return;
            }
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(r.value())).toString();
            } catch (CharacterCodingException e) {
                deadLetter(r, "INVALID_UTF8", "the value is not UTF-8 text: " + e.getMessage());
                return;
            }
            if (text.isBlank()) {
                deadLetter(r, "EMPTY_TEXT", "the text is empty or blank");
                return;
            }
            if (text.length() > maxTextChars) {
                deadLetter(r, "TEXT_TOO_LONG", "the text has " + text.length() + " characters, over the limit of " + maxTextChars);
                return;
            }
            Answer a = predictor.predict(text);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("student", a.student());
            out.put("version", a.version());
            out.putAll(a.fields());
            try {
                context.forward(r.withValue(JSON.writeValueAsBytes(out)), PREDICTIONS);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot write a prediction as JSON", e);
            }
            counts.predictions.incrementAndGet();
            counts.lastVersion = a.version();
        }

        private void deadLetter(Record<byte[], byte[]> r, String reason, String message) {
            RecordMetadata meta = context.recordMetadata().orElseThrow();
            DeadLetter dl = DeadLetter.newBuilder().setId(null).setTopic(meta.topic()).setPartition(meta.partition())
                    .setOffset(meta.offset()).setOriginalKey(r.key() == null ? null : ByteBuffer.wrap(r.key()))
                    .setOriginalValue(r.value() == null ? null : ByteBuffer.wrap(r.value())).setStage("validate").setReason(reason)
                    .setMessage(message).setService(SERVICE).setFailedAt(Instant.now()).build();
            context.forward(r.withValue(deadLetterBytes.apply(dl)), DEAD_LETTERS);
            counts.deadLetters.incrementAndGet();
        }
    }

    private StudentPredictions() {
    }
}
