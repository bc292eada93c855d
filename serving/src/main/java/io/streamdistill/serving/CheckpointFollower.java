package io.streamdistill.serving;

import io.streamdistill.artifacts.ArtifactReader;
import io.streamdistill.artifacts.ArtifactUnavailableException;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.ClientSettings;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.SerdeException;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.onnx.ArtifactIntegrityException;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.TextTokenizer;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows {@code distill.checkpoints} (read_committed) for one student and keeps the newest version
 * (or a pinned one) in a {@link ModelHolder}: each new artifact is fetched ({@code file:},
 * {@code http(s):} or {@code s3:}, with the {@code s3.*} settings), its sha256 checked against the record,
 * warmed up, and only then swapped in. A version that fails any of that is refused and counted; the one
 * serving keeps serving. A record that is no checkpoint is refused the same way. While the schema registry
 * or the artifact store is unavailable the follower waits and tries again, so no version is skipped for an
 * outage.
 */
public final class CheckpointFollower implements Runnable, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointFollower.class);

    /** Where to follow, which student, optionally one pinned version. */
    public record Settings(Map<String, String> clients, String topic, String student, Long pinnedVersion) {
    }

    private final Settings settings;
    private final java.util.function.Consumer<ServedModel> beforeSwap;
    private final TextTokenizer tokenizer;
    private final ModelHolder holder;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDeserializer<StudentCheckpoint> deserializer;
    private final ArtifactReader artifacts;
    private final AtomicLong refused = new AtomicLong();
    private volatile String lastRefusal;
    private volatile boolean closing;
    private volatile boolean caughtUp;
    private long refusedVersion = -1;
    /** When the registry stopped answering (System.nanoTime), or 0: one log line per outage, not per poll. */
    private long registryDownSince;
    /** When the artifact store stopped answering, or 0; the same, for the store. */
    private long storeDownSince;
    private static final Duration OUTAGE_PAUSE = Duration.ofSeconds(1);

    /** What became of a version: serving, refused for good, or waiting for its store to answer. */
    enum Outcome { SERVED, REFUSED, STORE_UNAVAILABLE }

    public CheckpointFollower(Settings settings, TextTokenizer tokenizer, ModelHolder holder) {
        this(settings, tokenizer, holder, m -> { });
    }

    /**
     * @param beforeSwap runs on each version after it is verified and warmed up, before it serves (a cascade
     *                   calibrates it there); an exception from it is logged and the version serves anyway
     */
    public CheckpointFollower(Settings settings, TextTokenizer tokenizer, ModelHolder holder, java.util.function.Consumer<ServedModel> beforeSwap) {
        this.beforeSwap = beforeSwap;
        this.settings = settings;
        this.tokenizer = tokenizer;
        this.holder = holder;
        Map<String, Object> c = new HashMap<>(ClientSettings.kafka(settings.clients()));
        c.put("bootstrap.servers", settings.clients().get("bootstrap.servers"));
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        this.consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.deserializer = new AvroDeserializer<>(new SchemaRegistryClient(RegistryConfig.fromMap(
                ClientSettings.registry(settings.clients()))), StudentCheckpoint.class);
        this.artifacts = ArtifactReader.fromSettings(settings.clients());
    }

    @Override
    public void run() {
        try {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(settings.topic(), Duration.ofSeconds(60))
                    .forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            StudentCheckpoint best = null;
            StudentCheckpoint secondBest = null;
            while (!closing) {
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(500));
                boolean outage = false;
                for (TopicPartition tp : polled.partitions()) {
                    for (ConsumerRecord<byte[], byte[]> r : polled.records(tp)) {
                        StudentCheckpoint cp;
                        try {
                            cp = decode(r);
                        } catch (SerdeException e) {
                            // Not the record's fault: read it again once the registry answers, never skip a version.
                            consumer.seek(tp, r.offset());
                            outage = true;
                            if (registryDownSince == 0) {
                                registryDownSince = System.nanoTime();
                                LOG.warn("schema registry unavailable while reading {}/{}@{} ({}); waiting for it, nothing skipped: {}",
                                        r.topic(), r.partition(), r.offset(), e.reason(), e.getMessage());
                            }
                            break;
                        }
                        if (cp == null || !cp.getStudent().equals(settings.student())
                                || (settings.pinnedVersion() != null && cp.getVersion() != settings.pinnedVersion())) {
                            continue;
                        }
                        if (best == null || cp.getVersion() > best.getVersion()) {
                            secondBest = best;
                            best = cp;
                        }
                    }
                }
                if (outage) {
                    Thread.sleep(OUTAGE_PAUSE.toMillis());
                    continue;
                }
                if (registryDownSince != 0) {
                    LOG.info("schema registry answers again after {} s; reading {} on", (System.nanoTime() - registryDownSince) / 1_000_000_000,
                            settings.topic());
                    registryDownSince = 0;
                }
                if (!caughtUp && partitions.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp))) {
                    caughtUp = true; // history read: load only the newest version found, not every one
                    LOG.info("read the history of {}: newest version of '{}' is {}", settings.topic(), settings.student(),
                            best == null ? "none yet" : best.getVersion());
                }
                ServedModel current = holder.peek();
                if (caughtUp && best != null && best.getVersion() != refusedVersion
                        && (current == null || best.getVersion() > current.version())) {
                    if (current == null && holder.keepsPrevious() && secondBest != null
                            && load(secondBest) == Outcome.STORE_UNAVAILABLE) { // the holder compares the two newest: start with both
                        Thread.sleep(OUTAGE_PAUSE.toMillis());
                        continue;
                    }
                    Outcome outcome = load(best);
                    if (outcome == Outcome.REFUSED) {
                        refusedVersion = best.getVersion(); // not retried; a newer version is
                    } else if (outcome == Outcome.STORE_UNAVAILABLE) {
                        Thread.sleep(OUTAGE_PAUSE.toMillis()); // the file may be fine: read it again, keep serving meanwhile
                    }
                }
            }
        } catch (WakeupException e) {
            if (!closing) {
                throw e;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            consumer.close();
            artifacts.close();
        }
    }

    /**
     * The record's checkpoint, or null when it is not one: such a record is refused (counted, its coordinates in
     * {@link #lastRefusal()}); it stays in the topic. A registry outage is thrown, for the caller to read it again.
     */
    private StudentCheckpoint decode(ConsumerRecord<byte[], byte[]> r) {
        try {
            return deserializer.deserialize(r.topic(), r.value());
        } catch (SerdeException e) {
            if (e.isOutage()) {
                throw e;
            }
            refuseUnreadable(r, e.reason() + ": " + e.getMessage());
        } catch (RuntimeException e) {
            refuseUnreadable(r, e.toString());
        }
        return null;
    }

    private void refuseUnreadable(ConsumerRecord<byte[], byte[]> r, String why) {
        lastRefusal = "unreadable record at " + r.topic() + "/" + r.partition() + "@" + r.offset() + ": " + why;
        refused.incrementAndGet();
        LOG.warn("refused an {}; still serving {}", lastRefusal, holder.peek() == null ? "nothing" : "version " + holder.peek().version());
    }

    /** Fetches, verifies, warms up and swaps in one version; a refusal is counted, a store that is down is not. */
    Outcome load(StudentCheckpoint cp) {
        long t0 = System.nanoTime();
        try {
            byte[] bytes;
            try {
                bytes = artifacts.read(URI.create(cp.getArtifact().getUri()));
            } catch (ArtifactUnavailableException e) {
                if (storeDownSince == 0) {
                    storeDownSince = System.nanoTime();
                    LOG.warn("the store of '{}' version {} is unavailable; waiting for it, still serving {}: {}", cp.getStudent(),
                            cp.getVersion(), holder.peek() == null ? "nothing" : "version " + holder.peek().version(), e.getMessage());
                }
                return Outcome.STORE_UNAVAILABLE;
            }
            if (storeDownSince != 0) {
                LOG.info("the artifact store answers again after {} s", (System.nanoTime() - storeDownSince) / 1_000_000_000);
                storeDownSince = 0;
            }
            String actual = Hashing.sha256(bytes);
            if (!actual.equalsIgnoreCase(cp.getArtifact().getSha256())) {
                throw new ArtifactIntegrityException("the artifact of '" + cp.getStudent() + "' version " + cp.getVersion() + " at "
                        + cp.getArtifact().getUri() + " has SHA-256 " + actual + " but was published with "
                        + cp.getArtifact().getSha256() + ": refusing it");
            }
            StudentRunner runner = StudentRunner.fromBytes(bytes, actual, tokenizer, 1);
            ServedModel model = new ServedModel(cp.getStudent(), cp.getVersion(), actual, cp.getTask().name(), cp.getClassNames(), runner,
                    cp.getMetrics().getOrDefault("holdout_agreement", Double.NaN));
            for (int i = 0; i < 3; i++) {
                model.score(List.of("warm up", "a slightly longer sentence to warm the student up"));
            }
            try {
                beforeSwap.accept(model);
            } catch (RuntimeException e) {
                LOG.warn("'{}' version {}: preparing it before it serves failed ({}); it serves anyway", cp.getStudent(), cp.getVersion(),
                        e.getMessage());
            }
            holder.swap(model);
            LOG.info("serving '{}' version {} (loaded, verified and warmed up in {} ms)", cp.getStudent(), cp.getVersion(),
                    (System.nanoTime() - t0) / 1_000_000);
            return Outcome.SERVED;
        } catch (RuntimeException | IOException e) {
            lastRefusal = "version " + cp.getVersion() + ": " + e.getMessage();
            refused.incrementAndGet(); // after the reason, so a reader that sees the count sees why
            LOG.error("refused '{}' version {}; still serving {}: {}", cp.getStudent(), cp.getVersion(),
                    holder.peek() == null ? "nothing" : "version " + holder.peek().version(), e.getMessage());
            return Outcome.REFUSED;
        }
    }

    public long refused() {
        return refused.get();
    }

    public String lastRefusal() {
        return lastRefusal;
    }

    public boolean caughtUp() {
        return caughtUp;
    }

    @Override
    public void close() {
        closing = true;
        consumer.wakeup();
    }
}
