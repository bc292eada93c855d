package io.streamdistill.trainer;

import io.streamdistill.records.TeacherRef;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.sync.ModelDelta;
import io.streamdistill.student.sync.Replica;
import io.streamdistill.student.train.BatchResult;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.TrainingConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    /** How long the other subtasks wait for subtask 0's handover of a single trainer's restored state. */
    private static final java.time.Duration HANDOFF_WAIT = java.time.Duration.ofMinutes(10);
    static final OutputTag<DeltaRecord> DELTAS = new OutputTag<>("deltas", TypeInformation.of(DeltaRecord.class));

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
    /** The shared model as this subtask knows it: adopted rounds, pending moves (see {@link ReplicaState}). */
    private transient ReplicaState state;
    /** Records trained since the last move was sent. */
    private transient Lineage since;
    private transient long sinceRecords;
    /** The handover file subtask 0 wrote on a restore from a single trainer; deleted once a checkpoint completes. */
    private transient String handoff;
    /** The states other subtasks left for subtask 0 on a rescale between two parallelisms above 1; deleted with the handover. */
    private transient List<String> rescaleFiles;
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
        since = new Lineage();
        progress = new Progress();
        holdout = new HoldoutWindow(config.integer("holdout.window"));
        freshness = new Freshness();
        cadence = ExportCadence.of(config, System.currentTimeMillis());
        lastHoldout = Double.NaN;
        examples = new RecordExamples(config);
        publisher = new Publisher(config, examples.tokenizerId());
        StudentConfig studentConfig = examples.studentConfig();
        Learner trainer = restore(context, parallelism);
        if (trainer == null) {
            StudentInit init = StudentInit.of(config);
            trainer = init.create(studentConfig, replicaTraining(config.trainingConfig(), parallelism));
            state = new ReplicaState(subtask, parallelism, 0);
            if (exporter()) {
                publishAtStart = init.warm();
                teacher = publishAtStart ? init.teacherRef() : null;
                publisher.continueAfterStore();
            }
        }
        replica = new Replica(trainer, config.integer("sync.delta.bits") == 8);
    }

    /**
     * The trainer from the restored checkpoint (null without one), with {@link #state} and the
     * exporter's pieces set. A checkpoint of this parallelism gives each subtask its own state. One
     * taken at {@code train.parallelism=1} gives subtask 0 the single trainer's: it continues from it
     * and hands the trainer to the others through a file, so all start from one model.
     */
    private Learner restore(StateInitializationContext context, int parallelism) throws Exception {
        TrainerSnapshot.Restored restored = snapshot.restore(ReplicaState::rank);
        long checkpoint = context.getRestoredCheckpointId().orElse(0);
        SyncFiles files = new SyncFiles(config.string("artifact.dir"), config.string("student.name"));
        if (restored == null) {
            if (!context.isRestored()) {
                return null;
            }
            if (exporter()) {
                throw new IllegalStateException("the restored checkpoint holds no state for the training operator (uid 'train')");
            }
            Learner trainer = files.awaitHandoff(run, checkpoint, HANDOFF_WAIT);
            state = new ReplicaState(subtask, parallelism, checkpoint);
            LOG.info("training subtask {} of {} took over the student subtask 0 restored from checkpoint {} (step {})",
                    subtask, parallelism, checkpoint, trainer.step());
            return trainer;
        }
        if (restored.metas().isEmpty()) {
            throw new IllegalStateException("the restored checkpoint's training state has no metadata (written by an early build):"
                    + " restore it at train.parallelism=1");
        }
        byte[] meta = restored.metas().get(0);
        if (ReplicaState.isReplica(meta)) {
            ReplicaState.Read read = ReplicaState.read(meta);
            int was = read.state().parallelism;
            if (was != parallelism) {
                return rescale(restored, was, parallelism, checkpoint, files);
            }
            if (restored.metas().size() != 1 || read.state().subtask != subtask) {
                throw new IllegalStateException("training subtask " + subtask + " of " + parallelism + " was given "
                        + restored.metas().size() + " states of a checkpoint at the same parallelism (the first of subtask "
                        + read.state().subtask + ")");
            }
            state = read.state();
            ReplicaState.readExporterTail(read.tail(), publisher, cadence, holdout);
            LOG.info("restored training subtask {} of {} for student '{}' at step {}, {} moves pending", subtask, parallelism,
                    config.string("student.name"), restored.trainer().step(), state.pending.size());
            return restored.trainer();
        }
        // A single trainer's state (train.parallelism=1): this is subtask 0, the only one given a partition.
        Lineage lineage = new Lineage();
        long seen = TrainOperator.readMeta(meta, publisher, cadence, lineage, holdout);
        Learner trainer = restored.trainer().withTraining(
                ReplicaState.scaledLearningRate(restored.trainer().training(), Math.sqrt(parallelism)));
        handoff = files.writeHandoff(run, checkpoint, trainer);
        state = new ReplicaState(subtask, parallelism, checkpoint);
        // What the single trainer had trained goes to the merger with this subtask's first move, so the merged lineage holds it.
        since = lineage;
        sinceRecords = seen;
        LOG.info("rescaled student '{}' from 1 to {} training subtasks at checkpoint {}: step {}, {} records trained, version {}",
                config.string("student.name"), parallelism, checkpoint, trainer.step(), seen, publisher.version());
        return trainer;
    }

    /**
     * From a checkpoint of {@code was} &gt; 1 subtasks to {@code parallelism} &gt; 1 ({@link ReplicaRescale}):
     * subtask 0 folds all old states into one student and hands it to the others; the rest leave the
     * states they were given for it and take the student over. All start from one model, with no moves
     * pending; subtask 0 holds what the fold holds (the merger's restored lineage holds the same).
     */
    private Learner rescale(TrainerSnapshot.Restored restored, int was, int parallelism, long checkpoint, SyncFiles files)
            throws Exception {
        if (!exporter()) {
            ReplicaRescale.leave(files, run, checkpoint, restored);
            Learner trainer = files.awaitHandoff(run, checkpoint, HANDOFF_WAIT);
            state = new ReplicaState(subtask, parallelism, checkpoint);
            LOG.info("training subtask {} of {} took over the student subtask 0 folded from {} subtasks at checkpoint {} (step {})",
                    subtask, parallelism, was, checkpoint, trainer.step());
            return trainer;
        }
        ReplicaRescale.Folded f = ReplicaRescale.fold(files, run, checkpoint, restored, was, parallelism, HANDOFF_WAIT);
        ReplicaState.readExporterTail(f.consolidated().exporterTail(), publisher, cadence, holdout);
        handoff = files.writeHandoff(run, checkpoint, f.trainer());
        rescaleFiles = f.files();
        state = new ReplicaState(subtask, parallelism, checkpoint);
        state.merged = f.consolidated().lineage();
        state.mergedRecords = f.consolidated().records();
        state.syncBytes = f.syncBytes();
        LOG.info("rescaled student '{}' from {} to {} training subtasks at checkpoint {}: merged {} pending sync rounds; step {},"
                        + " {} records trained, version {}", config.string("student.name"), was, parallelism, checkpoint,
                f.consolidated().rounds(), f.trainer().step(), f.consolidated().records(), publisher.version());
        return f.trainer();
    }

    /**
     * Each replica takes 1/N of the steps on the shared parameters: its learning rate is scaled by √N,
     * which recovered most of the lag in the in-memory measurement (docs/benchmarks.md).
     */
    static TrainingConfig replicaTraining(TrainingConfig training, int parallelism) {
        return ReplicaState.scaledLearningRate(training, Math.sqrt(parallelism));
    }

    @Override
    public void open() throws Exception {
        super.open();
        trained = getMetricGroup().counter("recordsTrained");
        getMetricGroup().meter("recordsPerSecond", new MeterView(trained));
        getMetricGroup().gauge("pendingMoves", () -> state.pending.size());
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
        since.add(r.topic, r.partition, r.offset, r.id);
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
        ReplicaState.Pending own = state.pending.get(p.round);
        if (own == null || !own.run().equals(p.run)) {
            LOG.debug("training subtask {} skips sync round {} of run {}: not one it sent a move for", subtask, p.round, p.run);
            return;
        }
        state.pending.remove(p.round);
        replica.adopt(SyncFiles.read(p), own.delta());
        state.adoptedThrough = p.round;
        if (exporter()) {
            cadence.trained((int) Math.max(0, p.records - state.mergedRecords - own.records()));
        }
        state.merged = p.lineage();
        state.mergedRecords = p.records;
        state.syncBytes = p.syncBytes;
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
        d.delta = move.toBytes();
        d.lineage = since.toBytes();
        d.records = sinceRecords;
        d.adoptedThrough = state.adoptedThrough;
        output.collect(DELTAS, new StreamRecord<>(d));
        state.pending.put(checkpointId, new ReplicaState.Pending(run, move, since, sinceRecords));
        since = new Lineage();
        sinceRecords = 0;
    }

    private void export() throws IOException {
        String student = config.string("student.name");
        // The model holds the merged rounds plus this subtask's own moves not yet merged back.
        Lineage lineage = new Lineage();
        lineage.addAll(state.merged);
        long records = state.mergedRecords + sinceRecords;
        for (ReplicaState.Pending p : state.pending.values()) {
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
        metrics.put("sync_bytes_total", (double) state.syncBytes);
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
        return state.toBytes(ReplicaState.exporterTail(publisher, cadence, holdout));
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        if (handoff != null) {
            SyncFiles.delete(handoff); // every subtask has state of its own in the completed checkpoint
            handoff = null;
        }
        if (rescaleFiles != null) {
            for (String file : rescaleFiles) {
                SyncFiles.delete(file);
            }
            rescaleFiles = null;
        }
    }
}
