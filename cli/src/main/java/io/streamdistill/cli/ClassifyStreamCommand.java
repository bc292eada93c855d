package io.streamdistill.cli;

import io.streamdistill.records.DeadLetter;
import io.streamdistill.schemas.ClientSettings;
import io.streamdistill.schemas.Topics;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.serving.Cascade;
import io.streamdistill.serving.CheckpointFollower;
import io.streamdistill.serving.FollowedStudent;
import io.streamdistill.serving.ServedModel;
import io.streamdistill.serving.streams.StudentPredictions;
import io.streamdistill.trainer.KafkaTopics;
import io.streamdistill.teacher.cascade.CascadeTeacher;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code streamdistill classify-stream --student NAME --input TOPIC --output TOPIC}: a Kafka Streams application
 * (exactly_once_v2) that answers every text on a topic with the student's newest version, naming the version
 * in each prediction; the example of {@link StudentPredictions} a user's own application can follow.
 */
@Command(name = "classify-stream", mixinStandardHelpOptions = true,
        description = "Answer every text on a Kafka topic with a student (Kafka Streams, exactly once), following its newest version.")
public final class ClassifyStreamCommand implements Callable<Integer> {
    @Option(names = "--student", required = true, description = "the student's name (its checkpoint records' key)")
    String student;

    @Option(names = "--input", required = true, description = "the topic of texts (value: the text, UTF-8; the key is kept)")
    String input;

    @Option(names = "--output", required = true, description = "the topic predictions go to (JSON: student, version, label,"
            + " confidence, probabilities; or embedding)")
    String output;

    @Option(names = "--dead-letters", description = "where values that are no text go, with the reason (default: <output>.dead-letters)")
    String deadLetters;

    @Option(names = "--version", description = "answer with this version only (pinned) instead of following the newest")
    Long version;

    @Option(names = "--application-id", description = "the Kafka Streams application id: its consumer group and transactions"
            + " (default: streamdistill-classify-<student>)")
    String applicationId;

    @Option(names = "--threads", defaultValue = "1", description = "stream threads (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--max-text-chars", defaultValue = "10000", description = "longer texts are dead letters (default: ${DEFAULT-VALUE})")
    int maxTextChars;

    @Option(names = "--first-version-wait", defaultValue = "PT2M", description = "how long to wait at start for a version to"
            + " load (default: ${DEFAULT-VALUE})")
    Duration firstVersionWait;

    @Option(names = "--duration", description = "stop after this long, ISO-8601 (default: run until stopped)")
    Duration duration;

    @Option(names = "--checkpoints-topic", defaultValue = Topics.CHECKPOINTS, description = "(default: ${DEFAULT-VALUE})")
    String checkpointsTopic;

    @Option(names = "--tokenizer", defaultValue = "all-MiniLM-L6-v2",
            description = "the student's tokenizer, as the trainer's student.tokenizer (default: ${DEFAULT-VALUE})")
    String tokenizer;

    @Mixin
    CascadeOptions cascade;

    @Mixin
    ClusterOptions cluster;

    @Override
    public Integer call() throws Exception {
        if (threads < 1 || threads > 64) {
            throw new IllegalArgumentException("--threads must be in 1..64, got " + threads);
        }
        if (version != null && version < 1) {
            throw new IllegalArgumentException("--version must be >= 1, got " + version);
        }
        if (maxTextChars < 1) {
            throw new IllegalArgumentException("--max-text-chars must be >= 1, got " + maxTextChars);
        }
        if (duration != null && (duration.isNegative() || duration.isZero())) {
            throw new IllegalArgumentException("--duration must be positive, got " + duration);
        }
        if (input.equals(output)) {
            throw new IllegalArgumentException("--output must not be --input (" + input + ")");
        }
        String dead = deadLetters == null ? output + ".dead-letters" : deadLetters;
        String app = applicationId == null ? "streamdistill-classify-" + student : applicationId;
        cascade.target(); // checked before anything starts
        try (ClusterOptions.Cluster c = cluster.open();
             CascadeTeacher teacher = cascade.teacher(cluster.dataDir)) {
            return run(c, cascade.open(teacher, c, checkpointsTopic, student), dead, app);
        }
    }

    private int run(ClusterOptions.Cluster c, Cascade answering, String dead, String app) throws Exception {
        try (FollowedStudent followed = new FollowedStudent(new CheckpointFollower.Settings(c.settings(), checkpointsTopic, student,
                version), tokenizer, answering == null ? m -> { } : answering::calibration)) {
            Map<String, Object> clients = new HashMap<>(ClientSettings.kafka(c.settings()));
            clients.put("bootstrap.servers", c.settings().get("bootstrap.servers"));
            KafkaTopics.ensure(clients, output);
            KafkaTopics.ensure(clients, dead);
            ServedModel first = followed.awaitFirstVersion(firstVersionWait, "student '" + student + "'");
            System.out.printf("classify-stream: '%s' %s from %s to %s (dead letters: %s), application %s; starting with version %d%n",
                    student, version == null ? "newest version, hot reload" : "pinned to version " + version, input, output, dead, app,
                    first.version());
            if (answering != null) {
                Cascade.Calibration cal = answering.calibration(first);
                System.out.printf("cascade: the teacher answers below confidence %.4f (on %d held-out texts: %.1f%% to the teacher,"
                        + " agreement %.4f; the student alone %.4f)%n", cal.threshold(), cal.holdout(), 100 * cal.teacherShare(),
                        cal.agreement(), cal.studentAgreement());
            }

            StudentPredictions.Counts counts = new StudentPredictions.Counts();
            AvroSerializer<DeadLetter> deadLetterSerializer = new AvroSerializer<>(c.registry());
            KafkaStreams streams = new KafkaStreams(StudentPredictions.topology(new StudentPredictions.Topics(input, output, dead),
                    StudentPredictions.fromHolder(followed.holder(), firstVersionWait, answering),
                    dl -> deadLetterSerializer.serialize(dead, dl), maxTextChars, counts), properties(clients, app, threads));
            // A failed thread (a model error, a broker hiccup) is replaced; its open transaction is aborted and its records read again.
            streams.setUncaughtExceptionHandler(e -> StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD);
            CountDownLatch stop = new CountDownLatch(1);
            CountDownLatch closed = new CountDownLatch(1);
            // On SIGTERM the JVM halts once its hooks return: this one waits for the streams to commit and close first.
            Thread hook = new Thread(() -> {
                stop.countDown();
                try {
                    closed.await(40, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "classify-stream-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            streams.start();
            long started = System.nanoTime();
            long end = duration == null ? Long.MAX_VALUE : started + duration.toNanos();
            try {
                while (System.nanoTime() < end && !stop.await(Math.min(10_000, Math.max(1, (end - System.nanoTime()) / 1_000_000)),
                        TimeUnit.MILLISECONDS)) {
                    progress(counts, followed, streams);
                }
            } finally {
                streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                        .withTimeout(Duration.ofSeconds(30)));
                closed.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the JVM is stopping: the hook has run
                }
            }
            progress(counts, followed, streams);
        }
        return 0;
    }

    private static void progress(StudentPredictions.Counts counts, FollowedStudent followed, KafkaStreams streams) {
        ServedModel current = followed.holder().peek();
        System.out.printf("classify-stream: %d predictions (newest by version %s), %d dead letter(s); current version %s, %d refused;"
                        + " %s%n", counts.predictions(), counts.lastVersion() < 0 ? "-" : String.valueOf(counts.lastVersion()),
                counts.deadLetters(), current == null ? "none" : String.valueOf(current.version()), followed.follower().refused(),
                streams.state());
    }

    static Properties properties(Map<String, Object> clients, String app, int threads) {
        Properties p = new Properties();
        p.putAll(clients);
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, app);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        // Streams members do not leave the group when a thread is replaced: its partitions move once the session times out.
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);
        p.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("java.io.tmpdir") + "/streamdistill-kafka-streams");
        return p;
    }
}
