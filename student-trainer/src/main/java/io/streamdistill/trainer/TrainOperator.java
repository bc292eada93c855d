package io.streamdistill.trainer;

import io.streamdistill.records.Artifact;
import io.streamdistill.records.SourceRange;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.records.TeacherRef;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.BatchResult;
import io.streamdistill.student.train.Evaluation;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.StudentTrainer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one stateful operator (parallelism 1): holds the student trainer, scores every record before
 * training on it (progressive validation), keeps holdout records aside, trains in batches, and
 * every N records or T seconds exports the student, checks it against the quality gate, writes the
 * artifact and emits a StudentCheckpoint for the exactly-once Kafka sink.
 *
 * <p>Its state (the trainer's bytes in 4 MiB chunks, plus version, lineage, the holdout window and
 * counters) is operator list state, so a restored job continues from the model it had rather than
 * from scratch. A partial batch is trained before each snapshot, so nothing read is lost.
 */
public final class TrainOperator extends AbstractStreamOperator<OutRecord>
        implements OneInputStreamOperator<TargetRecord, OutRecord>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TrainOperator.class);
    private static final int CHUNK = 4 << 20;
    private static final int META_VERSION = 2;

    private final TrainerConfig config;

    private transient StudentTrainer trainer;
    private transient ListState<byte[]> trainerState;
    private transient ListState<byte[]> metaState;
    private transient List<Example> batch;
    private transient HoldoutWindow holdout;
    private transient Map<String, long[]> lineage;
    private transient ArtifactStore store;
    private transient String tokenizerId;
    private transient Map<String, Integer> classIndex;
    /** The teacher of the latest record: model id, sha256, tokenizer (the record is built only at export). */
    private transient String[] teacher;
    private transient long version;
    private transient double lastPublishedAgreement;
    /** How many holdout records {@link #lastPublishedAgreement} was measured on (0: unknown). */
    private transient int lastPublishedCount;
    private transient long recordsSeen;
    private transient long trainedSinceExport;
    private transient long lastExportMillis;
    private transient long oldestUnexportedArrival;
    /** Arrival times of the records trained since the last published version, for freshness percentiles. */
    private transient long[] unexportedArrivals;
    private transient int unexportedCount;
    private transient double emaLoss;
    private transient double emaAgreement;
    private transient double emaKl;
    private transient double lastHoldout;
    private transient Counter trained;
    private transient Counter refused;
    private transient Counter published;
    /** A warm-started student works before any training: it is published as soon as the job runs. */
    private transient boolean publishAtStart;
    private transient QualityGate gate;

    private final boolean importanceWeights;

    public TrainOperator(TrainerConfig config) {
        this.config = config;
        this.importanceWeights = config.bool("importance.weights");
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        long started = System.nanoTime();
        super.initializeState(context);
        trainerState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("student-trainer", BytePrimitiveArraySerializer.INSTANCE));
        metaState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("student-trainer-meta", BytePrimitiveArraySerializer.INSTANCE));
        store = new ArtifactStore(config.string("artifact.dir"));
        gate = QualityGate.of(config);
        batch = new ArrayList<>();
        holdout = new HoldoutWindow(config.integer("holdout.window"));
        lineage = new TreeMap<>();
        lastPublishedAgreement = Double.NaN;
        lastHoldout = Double.NaN;
        int vocab;
        long tokenizerStart = System.nanoTime();
        try (TextTokenizer tok = Featurize.loadTokenizer(config.string("student.tokenizer"), config.integer("student.max.tokens"))) {
            tokenizerId = tok.id();
            vocab = tok.vocabSize();
        }
        long tokenizerMs = (System.nanoTime() - tokenizerStart) / 1_000_000;
        StudentConfig studentConfig = config.studentConfig(vocab);
        classIndex = new LinkedHashMap<>();
        for (int i = 0; i < studentConfig.classNames().size(); i++) {
            classIndex.put(studentConfig.classNames().get(i), i);
        }
        if (context.isRestored() && trainerState.get().iterator().hasNext()) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (byte[] chunk : trainerState.get()) {
                all.write(chunk);
            }
            trainer = StudentTrainer.fromBytes(all.toByteArray());
            for (byte[] meta : metaState.get()) {
                readMeta(meta);
            }
            LOG.info("restored student '{}' at step {}, version {}, {} records seen, in {} ms (the tokenizer {} ms)",
                    config.string("student.name"), trainer.step(), version, recordsSeen, (System.nanoTime() - started) / 1_000_000,
                    tokenizerMs);
        } else {
            StudentInit init = StudentInit.of(config);
            trainer = init.create(studentConfig, config.trainingConfig());
            publishAtStart = init.warm();
            if (publishAtStart) {
                TeacherRef ref = init.teacherRef();
                teacher = new String[] {ref.getModelId(), ref.getSha256(), ref.getTokenizer()};
            }
            // Without state (a new job, or one started without its savepoint) versions must still increase.
            version = store.highestVersion(config.string("student.name"));
            LOG.info("new student '{}': {} ({} parameters, init {}); versions continue after {}", config.string("student.name"),
                    studentConfig.describe(), studentConfig.parameterCount(), config.string("student.init"), version);
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        trained = getMetricGroup().counter("recordsTrained");
        getMetricGroup().meter("recordsPerSecond", new MeterView(trained));
        refused = getMetricGroup().counter("refusedVersions");
        published = getMetricGroup().counter("publishedVersions");
        getMetricGroup().gauge("loss", () -> emaLoss);
        getMetricGroup().gauge("agreement", () -> emaAgreement);
        getMetricGroup().gauge("kl", () -> emaKl);
        getMetricGroup().gauge("holdoutAgreement", () -> lastHoldout);
        getMetricGroup().gauge("publishedVersion", () -> version);
        lastExportMillis = System.currentTimeMillis();
        if (publishAtStart) {
            publishAtStart = false;
            export(); // version trained on 0 records, through the gate like any other
        }
        scheduleTimer();
    }

    private void scheduleTimer() {
        long every = config.longValue("export.every.seconds") * 1000;
        getProcessingTimeService().registerTimer(getProcessingTimeService().getCurrentProcessingTime() + every, t -> {
            flushBatch();
            maybeExport(false);
            scheduleTimer();
        });
    }

    @Override
    public void processElement(StreamRecord<TargetRecord> element) throws Exception {
        TargetRecord r = element.getValue();
        int label = r.label == null ? -1 : classIndex.getOrDefault(r.label, -1);
        // Importance weight 1/p: records only a random draw could send count for the ones skipped beside them.
        float weight = importanceWeights ? (float) (1 / r.inclusionProbability) : 1f;
        Example e = new Example(r.tokens, r.teacher, label, weight, r.teacherEmbedding);
        if (teacher == null || !teacher[1].equals(r.teacherSha256)) {
            teacher = new String[] {r.teacherModelId, r.teacherSha256, r.teacherTokenizer};
        }
        if (r.holdout) {
            holdout.add(e);
            return;
        }
        Evaluation before = trainer.evaluate(e); // progressive validation: scored before it is trained on
        emaLoss = ema(emaLoss, before.loss());
        emaAgreement = ema(emaAgreement, before.agreement());
        emaKl = ema(emaKl, before.kl());
        batch.add(e);
        long[] range = lineage.computeIfAbsent(r.topic + "\u0000" + r.partition, k -> new long[] {r.offset, r.offset});
        range[0] = Math.min(range[0], r.offset);
        range[1] = Math.max(range[1], r.offset);
        if (oldestUnexportedArrival == 0) {
            oldestUnexportedArrival = r.arrivalMillis;
        }
        if (unexportedArrivals == null) {
            unexportedArrivals = new long[1024];
        } else if (unexportedCount == unexportedArrivals.length) {
            unexportedArrivals = Arrays.copyOf(unexportedArrivals, unexportedCount * 2);
        }
        unexportedArrivals[unexportedCount++] = r.arrivalMillis;
        if (batch.size() >= config.integer("batch.size")) {
            flushBatch();
        }
        maybeExport(false);
    }

    private double ema(double current, double value) {
        return recordsSeen == 0 ? value : 0.99 * current + 0.01 * value;
    }

    private void flushBatch() {
        if (batch.isEmpty()) {
            return;
        }
        BatchResult result = trainer.train(batch);
        recordsSeen += batch.size();
        trainedSinceExport += batch.size();
        trained.inc(batch.size());
        if (LOG.isDebugEnabled()) {
            LOG.debug("step {}: loss {} agreement {}", result.step(), result.meanLoss(), result.meanAgreement());
        }
        batch.clear();
    }

    private void maybeExport(boolean force) throws IOException {
        if (trainedSinceExport == 0) {
            return;
        }
        boolean due = trainedSinceExport >= config.longValue("export.every.records")
                || System.currentTimeMillis() - lastExportMillis >= config.longValue("export.every.seconds") * 1000;
        if (!force && !due) {
            return;
        }
        export();
    }

    private void export() throws IOException {
        String student = config.string("student.name");
        HoldoutWindow.Score score = holdout.score(trainer);
        lastHoldout = score.agreement();
        trainedSinceExport = 0;
        lastExportMillis = System.currentTimeMillis();
        String refusal = gate.refusal(score.agreement(), score.count(),
                new QualityGate.Published(version, lastPublishedAgreement, lastPublishedCount));
        if (refusal != null) {
            refused.inc();
            LOG.warn("quality gate refused a new version of student '{}' (step {}): {}", student, trainer.step(), refusal);
            return;
        }
        long next = version + 1;
        byte[] onnx = OnnxExporter.export(trainer.student(), new OnnxExporter.Metadata(tokenizerId, next,
                Map.of("streamdistill.student_name", student)));
        String sha = Hashing.sha256(onnx);
        java.net.URI uri = store.write(student, next, onnx);
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("holdout_agreement", score.agreement());
        metrics.put("holdout_records", (double) score.count());
        if (trainer.config().task() == Task.CLASSIFICATION) {
            metrics.put("holdout_kl", score.kl());
            if (!Double.isNaN(score.accuracy())) {
                metrics.put("holdout_label_accuracy", score.accuracy());
            }
        }
        metrics.put("progressive_loss", emaLoss);
        metrics.put("progressive_agreement", emaAgreement);
        long now = System.currentTimeMillis();
        if (oldestUnexportedArrival > 0) {
            metrics.put("freshness_max_ms", (double) (now - oldestUnexportedArrival));
        }
        if (unexportedCount > 0) {
            long[] ages = new long[unexportedCount];
            for (int i = 0; i < unexportedCount; i++) {
                ages[i] = now - unexportedArrivals[i];
            }
            Arrays.sort(ages);
            metrics.put("freshness_p50_ms", (double) ages[(int) (0.50 * (ages.length - 1))]);
            metrics.put("freshness_p95_ms", (double) ages[(int) (0.95 * (ages.length - 1))]);
            metrics.put("new_records", (double) ages.length);
        }
        metrics.values().removeIf(v -> v == null || v.isNaN());
        List<SourceRange> sources = new ArrayList<>();
        lineage.forEach((k, range) -> sources.add(SourceRange.newBuilder().setTopic(k.substring(0, k.indexOf('\u0000')))
                .setPartition(Integer.parseInt(k.substring(k.indexOf('\u0000') + 1)))
                .setFirstOffset(range[0]).setLastOffset(range[1]).build()));
        StudentCheckpoint record = StudentCheckpoint.newBuilder()
                .setStudent(student)
                .setVersion(next)
                .setCreatedAt(Instant.now())
                .setStep(trainer.step())
                .setRecordsSeen(recordsSeen)
                .setTask(io.streamdistill.records.Task.valueOf(trainer.config().task().name()))
                .setArchitecture(trainer.config().describe())
                .setParameters(trainer.config().parameterCount())
                .setClassNames(trainer.config().classNames())
                .setSources(sources)
                .setMetrics(metrics)
                .setArtifact(Artifact.newBuilder().setUri(uri.toString()).setSha256(sha).setBytes(onnx.length).setFormat("onnx").build())
                .setTeacher(teacher != null
                        ? TeacherRef.newBuilder().setModelId(teacher[0]).setSha256(teacher[1]).setTokenizer(teacher[2]).build()
                        : TeacherRef.newBuilder().setModelId("unknown").setSha256("").setTokenizer("").build())
                .setConfigHash(configHash())
                .setSettings(new java.util.TreeMap<>(config.shapingSettings()))
                .build();
        output.collect(new StreamRecord<>(new OutRecord(student.getBytes(StandardCharsets.UTF_8),
                CheckpointRecords.encode(record))));
        version = next;
        lastPublishedAgreement = score.agreement();
        lastPublishedCount = score.count();
        oldestUnexportedArrival = 0;
        unexportedCount = 0;
        published.inc();
        LOG.info("published student '{}' version {} (step {}, {}) at {}", student, next, trainer.step(), score.count() == 0
                ? recordsSeen + " records trained, no holdout records yet" : String.format("holdout agreement %.4f on %d records",
                score.agreement(), score.count()), uri);
    }

    private String configHash() {
        StringBuilder s = new StringBuilder();
        config.shapingSettings().forEach((k, v) -> s.append(k).append('=').append(v).append('\n'));
        return Hashing.sha256(s.toString().getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flushBatch(); // records already read are trained before the snapshot: nothing is lost on restore
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        byte[] bytes = trainer.toBytes();
        List<byte[]> chunks = new ArrayList<>();
        for (int from = 0; from < bytes.length; from += CHUNK) {
            chunks.add(Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + CHUNK)));
        }
        trainerState.update(chunks);
        metaState.update(List.of(writeMeta()));
    }

    @Override
    public void endInput() throws Exception {
        flushBatch();
        maybeExport(true);
    }

    private byte[] writeMeta() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(META_VERSION);
            out.writeLong(version);
            out.writeDouble(lastPublishedAgreement);
            out.writeInt(lastPublishedCount);
            out.writeLong(recordsSeen);
            out.writeLong(trainedSinceExport);
            out.writeInt(lineage.size());
            for (Map.Entry<String, long[]> e : lineage.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue()[0]);
                out.writeLong(e.getValue()[1]);
            }
            holdout.write(out);
        }
        return bytes.toByteArray();
    }

    private void readMeta(byte[] meta) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(meta))) {
            int v = in.readInt();
            if (v != 1 && v != META_VERSION) {
                throw new IOException("trainer metadata state version " + v + " is not supported (expected " + META_VERSION + ")");
            }
            version = in.readLong();
            lastPublishedAgreement = in.readDouble();
            lastPublishedCount = v >= 2 ? in.readInt() : 0;
            recordsSeen = in.readLong();
            trainedSinceExport = in.readLong();
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                lineage.put(in.readUTF(), new long[] {in.readLong(), in.readLong()});
            }
            holdout.read(in);
        }
    }
}
