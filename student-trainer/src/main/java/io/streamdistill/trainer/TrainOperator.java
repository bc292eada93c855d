package io.streamdistill.trainer;

import io.streamdistill.records.TeacherRef;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.train.BatchResult;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Learner;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * The one stateful operator (parallelism 1): trains the student in batches on every record that is
 * not held out, scoring each before training on it (progressive validation), and every N records or
 * T seconds has the {@link Publisher} judge, write and announce a new version for the exactly-once
 * Kafka sink. The pieces it composes each hold one concern: {@link HoldoutWindow}, {@link Lineage},
 * {@link Progress}, {@link Freshness}, {@link ExportCadence}, {@link Publisher} and, for Flink
 * state, {@link TrainerSnapshot}.
 *
 * <p>A restored job continues from the model it had rather than from scratch. A partial batch is
 * trained before each snapshot, so nothing read is lost.
 */
public final class TrainOperator extends AbstractStreamOperator<OutRecord>
        implements OneInputStreamOperator<TargetRecord, OutRecord>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TrainOperator.class);
    /** Format of the metadata entry; 1 lacked the last version's holdout count. */
    private static final int META_VERSION = 2;

    private final TrainerConfig config;

    private transient Learner trainer;
    private transient RecordExamples examples;
    private transient List<Example> batch;
    /** Read once: the setting is parsed from its string form on every call. */
    private transient int batchSize;
    private transient HoldoutWindow holdout;
    private transient Lineage lineage;
    private transient Progress progress;
    private transient Freshness freshness;
    private transient ExportCadence cadence;
    private transient Publisher publisher;
    private transient TrainerSnapshot snapshot;
    /** The teacher of the latest record. */
    private transient TeacherRef teacher;
    private transient long recordsSeen;
    private transient double lastHoldout;
    /** A warm-started student works before any training: it is published as soon as the job runs. */
    private transient boolean publishAtStart;
    /** After a restore from N training subtasks: their sync files go once this job's first checkpoint completes. */
    private transient boolean parallelRunBehind;
    private transient Counter trained;
    private transient Counter refused;
    private transient Counter published;

    public TrainOperator(TrainerConfig config) {
        this.config = config;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        long started = System.nanoTime();
        super.initializeState(context);
        snapshot = new TrainerSnapshot(context);
        batch = new ArrayList<>();
        batchSize = config.integer("batch.size");
        holdout = new HoldoutWindow(config.integer("holdout.window"));
        lineage = new Lineage();
        progress = new Progress();
        freshness = new Freshness();
        cadence = ExportCadence.of(config, System.currentTimeMillis());
        lastHoldout = Double.NaN;
        long tokenizerStart = System.nanoTime();
        examples = new RecordExamples(config);
        long tokenizerMs = (System.nanoTime() - tokenizerStart) / 1_000_000;
        publisher = new Publisher(config, examples.tokenizerId());
        StudentConfig studentConfig = examples.studentConfig();
        trainer = restore(context);
        if (trainer != null) {
            LOG.info("restored student '{}' at step {}, version {}, {} records seen, in {} ms (the tokenizer {} ms)",
                    config.string("student.name"), trainer.step(), publisher.version(), recordsSeen,
                    (System.nanoTime() - started) / 1_000_000, tokenizerMs);
        } else {
            StudentInit init = StudentInit.of(config);
            trainer = init.create(studentConfig, config.trainingConfig());
            publishAtStart = init.warm();
            if (publishAtStart) {
                teacher = init.teacherRef();
            }
            publisher.continueAfterStore();
            LOG.info("new student '{}': {} ({} parameters, init {}); versions continue after {}", config.string("student.name"),
                    trainer.describe(), trainer.parameterCount(), config.string("student.init"), publisher.version());
        }
    }

    /**
     * The trainer from the restored checkpoint, or null without one. A checkpoint taken with N
     * training subtasks gives this one all N states, folded into one student ({@link ReplicaState#consolidate}).
     */
    private Learner restore(StateInitializationContext context) throws Exception {
        TrainerSnapshot.Restored restored = snapshot.restore(ReplicaState::rank);
        if (restored == null) {
            if (context.isRestored()) {
                throw new IllegalStateException("the restored checkpoint holds no state for the training operator (uid 'train'): "
                        + "it was taken by another job, or by a build that named the operator otherwise");
            }
            return null;
        }
        if (restored.metas().isEmpty()) {
            return restored.trainer(); // the earliest builds kept no metadata
        }
        if (!ReplicaState.isReplica(restored.metas().get(0))) {
            if (restored.metas().size() != 1) {
                throw new IllegalStateException("the restored checkpoint holds " + restored.metas().size() + " single-trainer states");
            }
            recordsSeen = readMeta(restored.metas().get(0), publisher, cadence, lineage, holdout);
            return restored.trainer();
        }
        List<ReplicaState.Read> states = new ArrayList<>();
        for (byte[] meta : restored.metas()) {
            states.add(ReplicaState.read(meta));
        }
        ReplicaState.Consolidated c = ReplicaState.consolidate(states, restored.chosen(), restored.trainer());
        ReplicaState.readExporterTail(c.exporterTail(), publisher, cadence, holdout);
        lineage.addAll(c.lineage());
        recordsSeen = c.records();
        parallelRunBehind = true;
        LOG.info("rescaled student '{}' from {} training subtasks to 1: merged {} pending sync rounds; {} records trained",
                config.string("student.name"), c.parallelism(), c.rounds(), c.records());
        return c.trainer().withTraining(ReplicaState.scaledLearningRate(c.trainer().training(), 1 / Math.sqrt(c.parallelism())));
    }

    @Override
    public void open() throws Exception {
        super.open();
        trained = getMetricGroup().counter("recordsTrained");
        getMetricGroup().meter("recordsPerSecond", new MeterView(trained));
        refused = getMetricGroup().counter("refusedVersions");
        published = getMetricGroup().counter("publishedVersions");
        getMetricGroup().gauge("loss", progress::loss);
        getMetricGroup().gauge("agreement", progress::agreement);
        getMetricGroup().gauge("kl", progress::kl);
        getMetricGroup().gauge("holdoutAgreement", () -> lastHoldout);
        getMetricGroup().gauge("publishedVersion", () -> publisher.version());
        cadence.started(System.currentTimeMillis());
        if (publishAtStart) {
            publishAtStart = false;
            export(); // version trained on 0 records, through the gate like any other
        }
        scheduleTimer();
    }

    private void scheduleTimer() {
        getProcessingTimeService().registerTimer(getProcessingTimeService().getCurrentProcessingTime() + cadence.everyMillis(), t -> {
            flushBatch();
            if (cadence.due(System.currentTimeMillis())) {
                export();
            }
            scheduleTimer();
        });
    }

    @Override
    public void processElement(StreamRecord<TargetRecord> element) throws Exception {
        TargetRecord r = element.getValue();
        Example e = examples.example(r);
        teacher = RecordExamples.teacher(teacher, r);
        if (r.holdout) {
            holdout.add(e);
            return;
        }
        if (trainer.training().tokenDropout() > 0) {
            // The training pass sees a dropped-out text: score the whole one first.
            progress.scored(trainer.evaluate(e));
        }
        batch.add(e);
        lineage.add(r.topic, r.partition, r.offset, r.id);
        freshness.arrived(r.arrivalMillis);
        if (batch.size() >= batchSize) {
            flushBatch();
        }
        if (cadence.due(System.currentTimeMillis())) {
            export();
        }
    }

    private void flushBatch() {
        if (batch.isEmpty()) {
            return;
        }
        BatchResult result = trainer.train(batch);
        if (trainer.training().tokenDropout() == 0) {
            progress.trained(result, batch.size());
        }
        recordsSeen += batch.size();
        cadence.trained(batch.size());
        trained.inc(batch.size());
        batch.clear();
    }

    private void export() throws IOException {
        String student = config.string("student.name");
        HoldoutWindow.Score score = holdout.score(trainer);
        lastHoldout = score.agreement();
        long now = System.currentTimeMillis();
        cadence.exported(now);
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("progressive_loss", progress.loss());
        metrics.put("progressive_agreement", progress.agreement());
        metrics.put("trainer_parallelism", 1.0);
        freshness.report(now, metrics);
        Publisher.Version v = publisher.publish(trainer, score, recordsSeen, lineage, teacher, metrics);
        if (v == null) {
            refused.inc();
            LOG.warn("quality gate refused a new version of student '{}' (step {}): {}", student, trainer.step(), publisher.refusal());
            return;
        }
        output.collect(new StreamRecord<>(new OutRecord(student.getBytes(StandardCharsets.UTF_8), v.record())));
        freshness.published();
        published.inc();
        LOG.info("published student '{}' version {} (step {}, {}) at {}", student, v.number(), trainer.step(), score.count() == 0
                ? recordsSeen + " records trained, no holdout records yet" : String.format("holdout agreement %.4f on %d records",
                score.agreement(), score.count()), v.artifact());
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flushBatch(); // records already read are trained before the snapshot: nothing is lost on restore
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        snapshot.snapshot(context, trainer, writeMeta());
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        if (parallelRunBehind) {
            parallelRunBehind = false; // a restore from here or later needs none of the parallel run's files
            new SyncFiles(config.string("artifact.dir"), config.string("student.name")).deleteAll();
        }
    }

    @Override
    public void endInput() throws Exception {
        flushBatch();
        if (cadence.pending()) {
            export();
        }
    }

    private byte[] writeMeta() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(META_VERSION);
            publisher.write(out);
            out.writeLong(recordsSeen);
            out.writeLong(cadence.trainedSince());
            lineage.write(out);
            holdout.write(out);
        }
        return bytes.toByteArray();
    }

    /**
     * Reads a single trainer's metadata into the pieces given; returns the records it had trained.
     * A restore at a higher {@code train.parallelism} reads it too.
     */
    static long readMeta(byte[] meta, Publisher publisher, ExportCadence cadence, Lineage lineage, HoldoutWindow holdout)
            throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(meta))) {
            int v = in.readInt();
            if (v != 1 && v != META_VERSION) {
                throw new IOException("trainer metadata state version " + v + " is not supported (expected " + META_VERSION + ")");
            }
            publisher.read(in, v);
            long recordsSeen = in.readLong();
            cadence.restore(in.readLong());
            lineage.read(in);
            holdout.read(in);
            return recordsSeen;
        }
    }
}
