package io.streamdistill.trainer;

import io.streamdistill.records.TeacherRef;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.sync.ModelDelta;
import io.streamdistill.student.sync.Replica;
import io.streamdistill.student.train.BatchResult;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
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
import java.util.TreeMap;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One of {@code train.parallelism} training subtasks (data parallel, model averaging; see
 * docs/student-trainer.md). It trains its share of the records; at each checkpoint it sends its move
 * since the last one to the {@link MergeOperator} ({@link #DELTAS}) and keeps it pending; when the
 * merged round comes back on the sync topic it adopts it. Subtask 0 also holds the holdout window,
 * the gate and the publisher: it publishes the merged model plus its own moves since, with the
 * lineage of exactly those records.
 */
public final class ReplicaOperator extends AbstractStreamOperator<OutRecord>
        implements TwoInputStreamOperator<TargetRecord, SyncPointer, OutRecord> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaOperator.class);
    private static final int META_FORMAT = 1;
    static final OutputTag<DeltaRecord> DELTAS = new OutputTag<>("deltas", TypeInformation.of(DeltaRecord.class));

    /** A move sent to the merger in a round of job run {@code run}, not yet merged back. */
    private record Pending(String run, ModelDelta delta, Lineage lineage, long records) {
    }

    private final TrainerConfig config;
    /**
     * Names this job graph: round numbers are checkpoint ids, which start again at 1 in a job
     * submitted without state, so a round is known by run and number. A restored job keeps the runs of
     * its pending rounds; the sync topic may hold rounds of other runs, which are skipped.
     */
    private final String run;

    private transient int subtask;
    private transient Replica replica;
    private transient RecordExamples examples;
    private transient List<Example> batch;
    private transient int batchSize;
    private transient TreeMap<Long, Pending> pending;
    /** Records trained since the last move was sent. */
    private transient Lineage since;
    private transient long sinceRecords;
    /** What the merged rounds adopted so far hold (subtask 0 publishes it). */
    private transient Lineage merged;
    private transient long mergedRecords;
    private transient long adoptedThrough;
    private transient long syncBytes;
    private transient TrainerSnapshot snapshot;
    private transient Progress progress;
    // Subtask 0 only:
    private transient HoldoutWindow holdout;
    private transient Freshness freshness;
    private transient ExportCadence cadence;
    private transient Publisher publisher;
    private transient TeacherRef teacher;
    private transient boolean publishAtStart;
    private transient double lastHoldout;
    private transient Counter trained;
    private transient Counter published;
    private transient Counter refused;

    public ReplicaOperator(TrainerConfig config, String run) {
        this.config = config;
        this.run = run;
    }

    private boolean exporter() {
        return subtask == 0;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        snapshot = new TrainerSnapshot(context);
        batch = new ArrayList<>();
        batchSize = config.integer("batch.size");
        pending = new TreeMap<>();
        since = new Lineage();
        merged = new Lineage();
        progress = new Progress();
        holdout = new HoldoutWindow(config.integer("holdout.window"));
        freshness = new Freshness();
        cadence = ExportCadence.of(config, System.currentTimeMillis());
        lastHoldout = Double.NaN;
        examples = new RecordExamples(config);
        publisher = new Publisher(config, examples.tokenizerId());
        StudentConfig studentConfig = examples.studentConfig();
        StudentTrainer trainer = snapshot.restoreTrainer();
        if (trainer != null) {
            byte[] meta = snapshot.restoreMeta();
            if (meta == null || readMeta(meta) != subtask) {
                throw new IllegalStateException(rescaled(parallelism));
            }
            LOG.info("restored training subtask {} of {} for student '{}' at step {}, {} moves pending", subtask, parallelism,
                    config.string("student.name"), trainer.step(), pending.size());
        } else {
            if (context.isRestored()) {
                throw new IllegalStateException(rescaled(parallelism));
            }
            StudentInit init = StudentInit.of(config);
            trainer = init.create(studentConfig, replicaTraining(config.trainingConfig(), parallelism));
            if (exporter()) {
                publishAtStart = init.warm();
                teacher = publishAtStart ? init.teacherRef() : null;
                publisher.continueAfterStore();
            }
        }
        replica = new Replica(trainer);
    }

    private String rescaled(int parallelism) {
        return "training subtask " + subtask + " of " + parallelism + " has no state of its own in the restored checkpoint: "
                + "train.parallelism differs from the one the checkpoint was taken at, and changing it is not supported yet";
    }

    /**
     * Each replica takes 1/N of the steps on the shared parameters: its learning rate is scaled by √N,
     * which recovered most of the lag in the in-memory measurement (docs/benchmarks.md).
     */
    static TrainingConfig replicaTraining(TrainingConfig training, int parallelism) {
        Map<String, String> m = new LinkedHashMap<>(training.toMap());
        m.put("learningRate", Float.toString((float) (training.learningRate() * Math.sqrt(parallelism))));
        return TrainingConfig.fromMap(m);
    }

    @Override
    public void open() throws Exception {
        super.open();
        trained = getMetricGroup().counter("recordsTrained");
        getMetricGroup().meter("recordsPerSecond", new MeterView(trained));
        getMetricGroup().gauge("pendingMoves", () -> pending.size());
        if (exporter()) {
            published = getMetricGroup().counter("publishedVersions");
            refused = getMetricGroup().counter("refusedVersions");
            getMetricGroup().gauge("loss", progress::loss);
            getMetricGroup().gauge("agreement", progress::agreement);
            getMetricGroup().gauge("holdoutAgreement", () -> lastHoldout);
            getMetricGroup().gauge("publishedVersion", () -> publisher.version());
            cadence.started(System.currentTimeMillis());
            if (publishAtStart) {
                publishAtStart = false;
                export();
            }
            scheduleTimer();
        }
    }

    private void scheduleTimer() {
        getProcessingTimeService().registerTimer(getProcessingTimeService().getCurrentProcessingTime() + cadence.everyMillis(), t -> {
            if (cadence.due(System.currentTimeMillis())) {
                flushBatch();
                export();
            }
            scheduleTimer();
        });
    }

    @Override
    public void processElement1(StreamRecord<TargetRecord> element) throws Exception {
        TargetRecord r = element.getValue();
        Example e = examples.example(r);
        if (r.holdout) {
            holdout.add(e); // holdout records are routed to subtask 0
            return;
        }
        if (exporter()) {
            teacher = RecordExamples.teacher(teacher, r);
            freshness.arrived(r.arrivalMillis);
        }
        batch.add(e);
        since.add(r.topic, r.partition, r.offset);
        if (batch.size() >= batchSize) {
            flushBatch();
        }
        if (exporter() && cadence.due(System.currentTimeMillis())) {
            flushBatch();
            export();
        }
    }

    @Override
    public void processElement2(StreamRecord<SyncPointer> element) throws Exception {
        SyncPointer p = element.getValue();
        Pending own = pending.get(p.round);
        if (own == null || !own.run().equals(p.run)) {
            LOG.debug("training subtask {} skips sync round {} of run {}: not one it sent a move for", subtask, p.round, p.run);
            return;
        }
        pending.remove(p.round);
        replica.adopt(SyncFiles.read(p), own.delta());
        adoptedThrough = p.round;
        if (exporter()) {
            cadence.trained((int) Math.max(0, p.records - mergedRecords - own.records()));
            merged = p.lineage();
            mergedRecords = p.records;
            syncBytes = p.syncBytes;
        }
    }

    private void flushBatch() {
        if (batch.isEmpty()) {
            return;
        }
        BatchResult result = replica.train(batch);
        progress.trained(result, batch.size());
        sinceRecords += batch.size();
        trained.inc(batch.size());
        if (exporter()) {
            cadence.trained(batch.size());
        }
        batch.clear();
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flushBatch();
        ModelDelta move = replica.take();
        DeltaRecord d = new DeltaRecord();
        d.round = checkpointId;
        d.subtask = subtask;
        d.delta = bytes(move);
        d.lineage = since.toBytes();
        d.records = sinceRecords;
        d.adoptedThrough = adoptedThrough;
        output.collect(DELTAS, new StreamRecord<>(d));
        pending.put(checkpointId, new Pending(run, move, since, sinceRecords));
        since = new Lineage();
        sinceRecords = 0;
    }

    private void export() throws IOException {
        String student = config.string("student.name");
        // The model holds the merged rounds plus this subtask's own moves not yet merged back.
        Lineage lineage = new Lineage();
        lineage.addAll(merged);
        long records = mergedRecords + sinceRecords;
        for (Pending p : pending.values()) {
            lineage.addAll(p.lineage());
            records += p.records();
        }
        lineage.addAll(since);
        HoldoutWindow.Score score = holdout.score(replica.trainer());
        lastHoldout = score.agreement();
        long now = System.currentTimeMillis();
        cadence.exported(now);
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("progressive_loss", progress.loss());
        metrics.put("progressive_agreement", progress.agreement());
        metrics.put("trainer_parallelism", (double) getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
        metrics.put("sync_bytes_total", (double) syncBytes);
        freshness.report(now, metrics);
        Publisher.Version v = publisher.publish(replica.trainer(), score, records, lineage, teacher, metrics);
        if (v == null) {
            refused.inc();
            LOG.warn("quality gate refused a new version of student '{}': {}", student, publisher.refusal());
            return;
        }
        output.collect(new StreamRecord<>(new OutRecord(student.getBytes(StandardCharsets.UTF_8), v.record())));
        freshness.published();
        published.inc();
        LOG.info("published student '{}' version {} ({} records from {} training subtasks) at {}", student, v.number(), records,
                getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks(), v.artifact());
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        snapshot.snapshot(context, replica.trainer(), writeMeta());
    }

    private byte[] writeMeta() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(META_FORMAT);
            out.writeInt(subtask);
            out.writeInt(pending.size());
            for (Map.Entry<Long, Pending> e : pending.entrySet()) {
                out.writeLong(e.getKey());
                out.writeUTF(e.getValue().run());
                e.getValue().delta().write(out);
                e.getValue().lineage().write(out);
                out.writeLong(e.getValue().records());
            }
            out.writeLong(mergedRecords);
            out.writeLong(adoptedThrough);
            out.writeLong(syncBytes);
            merged.write(out);
            publisher.write(out);
            out.writeLong(cadence.trainedSince());
            holdout.write(out);
        }
        return bytes.toByteArray();
    }

    /** Reads the metadata back and returns the subtask index it was written by. */
    private int readMeta(byte[] meta) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(meta))) {
            int format = in.readInt();
            if (format != META_FORMAT) {
                throw new IOException("training subtask state format " + format + " is not supported (expected " + META_FORMAT + ")");
            }
            int writer = in.readInt();
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                long round = in.readLong();
                String sentIn = in.readUTF();
                ModelDelta d = ModelDelta.read(in);
                Lineage l = new Lineage();
                l.read(in);
                pending.put(round, new Pending(sentIn, d, l, in.readLong()));
            }
            mergedRecords = in.readLong();
            adoptedThrough = in.readLong();
            syncBytes = in.readLong();
            merged.read(in);
            publisher.read(in, 2);
            cadence.restore(in.readLong());
            holdout.read(in);
            return writer;
        }
    }

    private static byte[] bytes(ModelDelta d) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE, d.bytes()));
        d.write(new DataOutputStream(b));
        return b.toByteArray();
    }
}
