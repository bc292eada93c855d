package io.streamdistill.teacher.service;

import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.Sampling;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.Task;
import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.KafkaAccess;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.RegistryException;
import io.streamdistill.schemas.registry.RegistryServerException;
import io.streamdistill.schemas.registry.RegistryUnavailableException;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.serving.CheckpointFollower;
import io.streamdistill.serving.ModelHolder;
import io.streamdistill.serving.ServedModel;
import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.teacher.sampling.SamplingPolicy;
import io.streamdistill.teacher.model.Teacher;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The teacher loop: consume text, run the teacher in micro-batches, publish soft targets and dead
 * letters, exactly once. Each poll is one Kafka transaction holding its outputs and its input
 * offsets ({@code sendOffsetsToTransaction}); if anything fails before the commit the transaction
 * is aborted and the consumer rewinds, so no input is lost or published twice under
 * read_committed. Within a poll, texts are sorted by length before batching (less padding). A
 * teacher failure is retried in smaller batches ({@link BatchInference}); when the teacher fails on
 * every text of a batch it is taken to be broken and the poll is aborted and retried with backoff.
 */
public final class TeacherService implements Runnable, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TeacherService.class);

    private final TeacherConfig config;
    private final Teacher teacher;
    private final BatchInference inference;
    private final Metrics metrics;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<byte[], byte[]> producer;
    private final AvroSerializer<SoftTarget> softTargetSerializer;
    private final AvroSerializer<DeadLetter> deadLetterSerializer;
    private final InputDecoder decoder;
    private final String outputTopic;
    private final String deadLetterTopic;
    private final String serviceName;
    private final int maxBatch;
    private final int maxBatchTokens;
    private final Duration pollTimeout;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean closing;
    private volatile boolean started;
    /** Null while ready; otherwise why not (served on /ready). */
    private volatile String notReady = "starting";
    private volatile Throwable failure;
    /** Adaptive sampling (all null when off): the newest student, the policy that reads its output. */
    private final SamplingPolicy policy;
    private final ModelHolder students;
    private final CheckpointFollower follower;
    private final TextTokenizer studentTokenizer;
    private final String skipsTopic;
    /** output.pooled.embedding: classification soft targets also carry the pooled embedding (feature distillation). */
    private final boolean pooledEmbeddings;
    private long policyVersion = -1;
    private boolean warnedMismatch;
    /** Null: follow the input topic forever. Otherwise per partition [first offset, offset to stop before]. */
    private Map<TopicPartition, long[]> range;

    public TeacherService(TeacherConfig config, Teacher teacher, Metrics metrics) {
        this(config, teacher, metrics, UnaryOperator.identity());
    }

    /** {@code around} wraps the teacher's inference call (tests inject failures there). */
    TeacherService(TeacherConfig config, Teacher teacher, Metrics metrics, UnaryOperator<BatchInference.Infer> around) {
        this.config = config;
        this.pooledEmbeddings = config.bool("output.pooled.embedding") && teacher.task() == Task.CLASSIFICATION;
        this.teacher = teacher;
        this.metrics = metrics;
        BatchInference.Infer infer = pooledEmbeddings ? teacher::inferWithEmbeddings : ids -> new Teacher.Output(teacher.infer(ids), null);
        this.inference = new BatchInference(around.apply(infer), config.integer("teacher.failure.retries"),
                Duration.ofMillis(100), metrics);
        this.outputTopic = config.string("output.topic");
        this.deadLetterTopic = config.string("dead.letter.topic");
        this.serviceName = config.string("service.name");
        this.maxBatch = config.integer("batch.max.size");
        this.maxBatchTokens = config.integer("batch.max.tokens");
        this.pollTimeout = Duration.ofMillis(config.integer("poll.timeout.ms"));

        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.fromMap(config.registryConfig()));
        this.softTargetSerializer = new AvroSerializer<>(registry);
        this.deadLetterSerializer = new AvroSerializer<>(registry);
        this.decoder = new InputDecoder(config.inputFormat(), new AvroDeserializer<>(registry, TextEvent.class),
                config.integer("text.max.chars"), config.oversize());

        Map<String, Object> c = new HashMap<>(config.kafkaConfig());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, config.string("group.id"));
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, c.getOrDefault(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"));
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.integer("poll.max.records"));
        this.consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());

        Map<String, Object> p = new HashMap<>(config.kafkaConfig());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.string("transactional.id"));
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, p.getOrDefault(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"));
        this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());

        if (config.samplingEnabled()) {
            this.studentTokenizer = StudentTokenizers.load(config.string("sampling.student.tokenizer"), 128);
            StudentRunner.initNative();
            this.students = new ModelHolder(config.samplingSettings().versionChange());
            this.follower = new CheckpointFollower(new CheckpointFollower.Settings(config.clientSettings(),
                    config.string("sampling.checkpoints.topic"), config.string("sampling.student"), null), studentTokenizer, students);
            this.policy = new SamplingPolicy(config.samplingSettings());
            this.skipsTopic = config.string("sampling.skips.topic");
            metrics.samplingOn = true;
        } else {
            this.studentTokenizer = null;
            this.students = null;
            this.follower = null;
            this.policy = null;
            this.skipsTopic = "";
        }
    }

    /**
     * Makes {@link #run()} process exactly this slice of the input topic and return when it is done
     * (a re-teach of stored text through another teacher) instead of following the topic. Call before run.
     */
    public TeacherService bounded(Map<Integer, long[]> offsets) {
        Map<TopicPartition, long[]> r = new HashMap<>();
        offsets.forEach((p, o) -> r.put(new TopicPartition(config.string("input.topic"), p), o.clone()));
        this.range = r;
        return this;
    }

    /** Runs until {@link #close()} (or, when {@link #bounded}, the end of the range); rethrows a fatal error. */
    @Override
    public void run() {
        started = true;
        Thread followerThread = null;
        if (follower != null) {
            // Loading a student runs native start-up code that overflowed default thread stacks.
            followerThread = new Thread(null, follower, "sampling-student-follower", 64L << 20);
            followerThread.setDaemon(true);
            followerThread.start();
            LOG.info("adaptive sampling on: following student '{}' on {}", config.string("sampling.student"),
                    config.string("sampling.checkpoints.topic"));
        }
        try {
            // The ACLs asked up front: a refused topic would otherwise surface as a send timing out, retried forever.
            Map<String, java.util.Set<org.apache.kafka.common.acl.AclOperation>> needs = new java.util.LinkedHashMap<>();
            needs.computeIfAbsent(config.string("input.topic"), t -> new java.util.HashSet<>()).add(org.apache.kafka.common.acl.AclOperation.READ);
            needs.computeIfAbsent(outputTopic, t -> new java.util.HashSet<>()).add(org.apache.kafka.common.acl.AclOperation.WRITE);
            needs.computeIfAbsent(deadLetterTopic, t -> new java.util.HashSet<>()).add(org.apache.kafka.common.acl.AclOperation.WRITE);
            KafkaAccess.requireOperations(config.kafkaConfig(), needs, Duration.ofSeconds(30));
            producer.initTransactions();
            if (range != null) {
                consumer.assign(range.keySet());
                range.forEach((tp, o) -> consumer.seek(tp, o[0]));
            } else {
                consumer.subscribe(List.of(config.string("input.topic")), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    // Nothing to flush: every poll is committed (or aborted) before the next.
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    LOG.info("consuming {} partition(s) of {}", partitions.size(), config.string("input.topic"));
                }
                });
            }
            awaitRegistry();
            if (closing) {
                return;
            }
            notReady = null;
            LOG.info("teacher service running: {} -> {} (dead letters: {}), teacher {}", config.string("input.topic"),
                    outputTopic, deadLetterTopic, teacher.ref().getModelId());
            while (!closing) {
                if (range != null && rangeDone()) {
                    LOG.info("the range of {} is done: {} records in", config.string("input.topic"), metrics.recordsIn());
                    break;
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(pollTimeout);
                if (range != null) {
                    records = withinRange(records);
                }
                updateLag();
                if (!records.isEmpty()) {
                    processInTransaction(records);
                }
            }
        } catch (WakeupException e) {
            if (!closing) {
                failure = e;
                throw e;
            }
        } catch (RuntimeException e) {
            failure = e;
            AuthorizationException denied = KafkaAccess.authorizationCause(e);
            if (denied != null) {
                // Not a bug to trace: the broker's ACLs, named with the principal and the resource.
                metrics.authorizationRefused();
                LOG.error("teacher service stopped: {}", KafkaAccess.refusal(denied, config.kafkaConfig()));
            } else {
                LOG.error("teacher service stopped: {}", e.toString(), e);
            }
            throw e;
        } finally {
            notReady = "stopped";
            try {
                consumer.close();
            } finally {
                producer.close(Duration.ofSeconds(10));
                if (follower != null) {
                    follower.close();
                }
                stopped.countDown();
            }
        }
    }

    private void processInTransaction(ConsumerRecords<byte[], byte[]> records) {
        producer.beginTransaction();
        try {
            int n = process(records);
            producer.sendOffsetsToTransaction(nextOffsets(records), consumer.groupMetadata());
            producer.commitTransaction();
            inference.committed();
            metrics.commits.increment();
            metrics.recordProcessed(n);
            if (notReady != null) {
                LOG.info("ready again: a transaction committed");
                notReady = null;
            }
        } catch (ProducerFencedException | InvalidProducerEpochException | OutOfOrderSequenceException
                 | AuthorizationException fatal) {
            // Another instance with our transactional.id took over, or we lost the right to write: stop.
            throw fatal;
        } catch (KafkaException e) {
            if (KafkaAccess.authorizationCause(e) != null) {
                throw e; // a send refused by the ACLs surfaces at commit, wrapped: as fatal as a direct refusal
            }
            // Includes registry outages (a SerializationException): nothing of this poll becomes visible.
            abortAndRetry(records, (e instanceof RegistryException ? "schema registry: " : "kafka: ") + e.getMessage(), e.toString(), 500);
        } catch (BatchInference.TeacherFailedException e) {
            // The teacher looks broken (not the records): keep them for when it works again.
            abortAndRetry(records, "teacher: " + e.getMessage(), e.getMessage(), e.backoffMs());
        }
    }

    private void abortAndRetry(ConsumerRecords<byte[], byte[]> records, String notReadyReason, String error, long backoffMs) {
        LOG.warn("aborting the transaction of {} records and retrying them in {} ms: {}", records.count(), backoffMs, error);
        notReady = notReadyReason;
        producer.abortTransaction();
        metrics.aborts.increment();
        rewind(records);
        // In short steps, so that close() does not wait out a long backoff.
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs);
        while (!closing && System.nanoTime() < until) {
            sleepQuietly(Math.min(100, Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()))));
        }
    }

    /**
     * Before consuming, resolves the ids of the schemas it will write: without the registry no
     * record can be published, so the service waits (with backoff, reporting not-ready) rather than
     * consume and abort. The registry client retries each call itself; this loop outlasts it.
     */
    private void awaitRegistry() {
        long backoffMs = 500;
        while (!closing) {
            try {
                softTargetSerializer.schemaId(outputTopic, SoftTarget.getClassSchema());
                deadLetterSerializer.schemaId(deadLetterTopic, DeadLetter.getClassSchema());
                return;
            } catch (RegistryUnavailableException | RegistryServerException e) {
                // Only outages are waited out; a refusal (incompatible schema, bad credentials) is a
                // configuration error that no retry fixes, so it stops the service with its reason.
                notReady = "schema registry: " + e.getMessage();
                LOG.warn("waiting for the schema registry ({}); next try in {} ms", e.getMessage(), backoffMs);
                sleepQuietly(backoffMs);
                backoffMs = Math.min(backoffMs * 2, 30_000);
            }
        }
    }

    /** Decodes, runs the teacher, sends; returns how many input records were handled. */
    private int process(ConsumerRecords<byte[], byte[]> records) {
        List<Pending> pending = new ArrayList<>(records.count());
        for (ConsumerRecord<byte[], byte[]> r : records) {
            metrics.recordsIn.increment();
            InputDecoder.Decoded d = decoder.decode(r);
            if (d.failed()) {
                deadLetter(r, d.event() == null ? null : d.event().getId(), d.stage(), d.reason(), d.message());
            } else {
                pending.add(new Pending(r, d.event(), d.truncated()));
            }
        }
        if (policy != null && !pending.isEmpty()) {
            pending = sample(pending);
        }
        if (!pending.isEmpty()) {
            List<String> texts = new ArrayList<>(pending.size());
            pending.forEach(p -> texts.add(p.event.getText()));
            List<TextTokenizer.Encoded> encoded = teacher.tokenizer().encodeWithTruncation(texts);
            for (int i = 0; i < pending.size(); i++) {
                pending.get(i).encoded = encoded.get(i);
            }
            pending.sort(Comparator.comparingInt(p -> p.encoded.ids().length));
            int from = 0;
            while (from < pending.size()) {
                int to = from + 1;
                while (to < pending.size() && to - from < maxBatch
                        && (long) (to - from + 1) * pending.get(to).encoded.ids().length <= maxBatchTokens) {
                    to++;
                }
                runBatch(pending.subList(from, to));
                from = to;
            }
        }
        return records.count();
    }

    /**
     * Scores the poll's records with the newest published student and keeps those the policy sends
     * to the teacher; the others are counted (and, when sampling.skips.topic is set, recorded there
     * in the same transaction), so every input is a soft target, a dead letter or a counted skip.
     */
    private List<Pending> sample(List<Pending> pending) {
        boolean classification = teacher.task() == Task.CLASSIFICATION;
        try (ModelHolder.Lease lease = students.acquire()) {
            ServedModel m = lease == null ? null : lease.model();
            if (m != null && !fits(m, classification)) {
                if (!warnedMismatch) {
                    LOG.warn("student '{}' version {} does not fit the teacher's output ({} {}); sampling everything",
                            m.student(), m.version(), m.task(), m.classNames());
                    warnedMismatch = true;
                }
                m = null;
            }
            if (m == null) {
                for (Pending p : pending) {
                    p.decision = SamplingPolicy.Decision.all();
                    metrics.sampled(SamplingPolicy.Reason.ALL.name());
                }
                return pending;
            }
            if (m.version() != policyVersion) {
                policy.newStudent(m.holdoutAgreement());
                policyVersion = m.version();
            }
            List<String> texts = new ArrayList<>(pending.size());
            pending.forEach(p -> texts.add(p.event.getText()));
            float[][] out = m.score(texts);
            float[][] before = null;
            if (students.keepsPrevious()) {
                try (ModelHolder.Lease previous = students.acquirePrevious()) {
                    if (previous != null && fits(previous.model(), classification)) {
                        before = previous.model().score(texts);
                    }
                }
            }
            List<Pending> kept = new ArrayList<>(pending.size());
            for (int i = 0; i < pending.size(); i++) {
                Pending p = pending.get(i);
                p.decision = policy.decide(out[i], before == null ? null : before[i], classification);
                p.student = out[i];
                p.studentVersion = m.version();
                if (p.decision.runsTeacher()) {
                    metrics.sampled(p.decision.reason().name());
                    kept.add(p);
                } else {
                    metrics.skipped(p.decision.reason().name());
                    recordSkip(p);
                }
            }
            return kept;
        }
    }

    private boolean fits(ServedModel m, boolean classification) {
        return classification
                ? m.task().equals("CLASSIFICATION") && m.classNames().size() == teacher.classNames().size()
                : m.task().equals("EMBEDDING");
    }

    private void recordSkip(Pending p) {
        if (skipsTopic.isEmpty()) {
            return;
        }
        Map<String, Object> skip = new java.util.LinkedHashMap<>();
        skip.put("id", p.event.getId());
        skip.put("reason", p.decision.reason().name());
        skip.put("student", config.string("sampling.student"));
        skip.put("student_version", p.studentVersion);
        skip.put("topic", p.record.topic());
        skip.put("partition", p.record.partition());
        skip.put("offset", p.record.offset());
        skip.put("skipped_at", Instant.now().toString());
        try {
            producer.send(new ProducerRecord<>(skipsTopic, utf8(p.event.getId()), SKIP_JSON.writeValueAsBytes(skip)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper SKIP_JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** Runs the teacher on one batch (retrying failures, see {@link BatchInference}) and sends its outputs. */
    private void runBatch(List<Pending> batch) {
        int[][] ids = new int[batch.size()][];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = batch.get(i).encoded.ids();
        }
        BatchInference.Result result = inference.run(ids);
        float[][] outputs = result.outputs();
        Instant now = Instant.now();
        Task task = teacher.task();
        for (int i = 0; i < batch.size(); i++) {
            Pending p = batch.get(i);
            if (result.failed(i)) {
                deadLetter(p.record, p.event.getId(), "teacher", "TEACHER_ERROR", result.failures()[i]);
                continue;
            }
            boolean truncated = p.charTruncated || p.encoded.truncated();
            List<Float> out = toList(outputs[i]);
            SoftTarget st = SoftTarget.newBuilder()
                    .setId(p.event.getId())
                    .setText(p.event.getText())
                    .setLabel(p.event.getLabel())
                    .setEventTime(p.event.getEventTime())
                    .setTeacher(teacher.ref())
                    .setTask(task)
                    .setClassLogits(task == Task.CLASSIFICATION ? out : null)
                    .setEmbedding(task == Task.EMBEDDING ? out : null)
                    .setLanguageModel(null)
                    .setPooledEmbedding(result.embeddings()[i] == null ? null : toList(result.embeddings()[i]))
                    .setInputTokens(p.encoded.ids().length)
                    .setTruncated(truncated)
                    .setTeacherLatencyMicros(result.latencyMicros()[i])
                    .setProducedAt(now)
                    .setInputTopic(p.record.topic())
                    .setInputPartition(p.record.partition())
                    .setInputOffset(p.record.offset())
                    .setSampling(p.decision == null ? null : Sampling.newBuilder().setReason(p.decision.reason().name())
                            .setExplorationProbability(p.decision.probability())
                            .setInclusionProbability(p.decision.inclusion())
                            .setStudentVersion(p.studentVersion < 0 ? null : p.studentVersion).build())
                    .build();
            if (p.student != null) {
                double agreement = task == Task.CLASSIFICATION
                        ? (DistillationLoss.argmax(p.student) == DistillationLoss.argmax(outputs[i]) ? 1 : 0)
                        : DistillationLoss.cosine(p.student, outputs[i]);
                policy.observe(p.decision, p.student, task == Task.CLASSIFICATION, agreement);
                metrics.drifting = policy.drifting();
                metrics.estimatedAgreement = policy.estimatedAgreement();
                metrics.uncertainShare = policy.uncertainShare();
            }
            producer.send(new ProducerRecord<>(outputTopic, utf8(p.event.getId()),
                    softTargetSerializer.serialize(outputTopic, st)));
            metrics.softTargets.increment();
            if (truncated) {
                metrics.truncated.increment();
            }
        }
    }

    private void deadLetter(ConsumerRecord<byte[], byte[]> r, String id, String stage, String reason, String message) {
        DeadLetter dl = DeadLetter.newBuilder()
                .setId(id)
                .setTopic(r.topic())
                .setPartition(r.partition())
                .setOffset(r.offset())
                .setOriginalKey(r.key() == null ? null : ByteBuffer.wrap(r.key()))
                .setOriginalValue(r.value() == null ? null : ByteBuffer.wrap(r.value()))
                .setStage(stage)
                .setReason(reason)
                .setMessage(message == null ? reason : message)
                .setService(serviceName)
                .setFailedAt(Instant.now())
                .build();
        producer.send(new ProducerRecord<>(deadLetterTopic, r.key(), deadLetterSerializer.serialize(deadLetterTopic, dl)));
        metrics.deadLetter(reason);
    }

    private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(ConsumerRecords<byte[], byte[]> records) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> rs = records.records(tp);
            offsets.put(tp, new OffsetAndMetadata(rs.get(rs.size() - 1).offset() + 1));
        }
        return offsets;
    }

    private boolean rangeDone() {
        for (Map.Entry<TopicPartition, long[]> e : range.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()[1]) {
                return false;
            }
        }
        return true;
    }

    /** The polled records before each partition's end offset; the rest are left for nobody. */
    private ConsumerRecords<byte[], byte[]> withinRange(ConsumerRecords<byte[], byte[]> records) {
        Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> kept = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            long end = range.get(tp)[1];
            List<ConsumerRecord<byte[], byte[]>> in = records.records(tp).stream().filter(r -> r.offset() < end).toList();
            if (!in.isEmpty()) {
                kept.put(tp, in);
            }
        }
        return new ConsumerRecords<>(kept, Map.of());
    }

    /** After an abort: read the same records again on the next poll. */
    private void rewind(ConsumerRecords<byte[], byte[]> records) {
        for (TopicPartition tp : records.partitions()) {
            consumer.seek(tp, records.records(tp).get(0).offset());
        }
    }

    private void updateLag() {
        for (Map.Entry<org.apache.kafka.common.MetricName, ? extends Metric> e : consumer.metrics().entrySet()) {
            if (e.getKey().name().equals("records-lag-max") && e.getKey().tags().size() == 1) {
                Object v = e.getValue().metricValue();
                if (v instanceof Double d && !d.isNaN()) {
                    metrics.consumerLag.set(d.longValue());
                }
            }
        }
    }

    private static List<Float> toList(float[] values) {
        Float[] boxed = new Float[values.length];
        for (int i = 0; i < values.length; i++) {
            boxed[i] = values[i];
        }
        return Arrays.asList(boxed);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * True while the service consumes and its last transaction committed; false while starting,
     * while the registry or the broker fails it, and after it stopped.
     */
    public boolean isReady() {
        return notReady == null;
    }

    /** Why the service is not ready, or null when it is. */
    public String notReadyReason() {
        return notReady;
    }

    /** True unless the loop died of an error. */
    public boolean isHealthy() {
        return failure == null;
    }

    public Metrics metrics() {
        return metrics;
    }

    /**
     * Stops gracefully: the loop finishes (commits) the transaction in progress, or an interrupted
     * poll leaves none open; waits up to 30 s.
     */
    @Override
    public void close() {
        closing = true;
        if (!started) {
            consumer.close();
            producer.close(Duration.ofSeconds(10));
            stopped.countDown();
            return;
        }
        consumer.wakeup();
        try {
            if (!stopped.await(30, TimeUnit.SECONDS)) {
                LOG.warn("the teacher loop did not stop within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class Pending {
        final ConsumerRecord<byte[], byte[]> record;
        final TextEvent event;
        final boolean charTruncated;
        TextTokenizer.Encoded encoded;
        SamplingPolicy.Decision decision;
        float[] student;
        long studentVersion = -1;

        Pending(ConsumerRecord<byte[], byte[]> record, TextEvent event, boolean charTruncated) {
            this.record = record;
            this.event = event;
            this.charTruncated = charTruncated;
        }
    }
}
