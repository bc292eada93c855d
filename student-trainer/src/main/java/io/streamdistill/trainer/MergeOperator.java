package io.streamdistill.trainer;

import io.streamdistill.student.sync.ModelDelta;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges the training subtasks' moves (parallelism 1). Every subtask sends its move for round c
 * before barrier c, so when the barrier has arrived on all inputs the round is complete: it is merged
 * ({@link ModelDelta#mean}), written to a file, and announced on the sync topic in the same
 * checkpoint's transaction. Its state is the cumulative lineage and record count, kept between rounds.
 */
final class MergeOperator extends AbstractStreamOperator<SyncPointer> implements OneInputStreamOperator<DeltaRecord, SyncPointer> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MergeOperator.class);

    private final String student;
    private final String artifactDir;
    private final String run;
    private transient Map<Long, List<DeltaRecord>> rounds;
    private transient Lineage lineage;
    private transient long records;
    private transient long syncBytes;
    private transient ListState<byte[]> state;
    private transient SyncFiles files;
    /** Per checkpoint: the oldest round some subtask had not adopted yet when it sent its move. */
    private transient TreeMap<Long, Long> adoptedAt;
    /** Files of merged rounds, by round, until every subtask has adopted them in a completed checkpoint. */
    private transient TreeMap<Long, String> written;

    MergeOperator(TrainerConfig config, String run) {
        this.run = run;
        this.student = config.string("student.name");
        this.artifactDir = config.string("artifact.dir");
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        rounds = new TreeMap<>();
        lineage = new Lineage();
        files = new SyncFiles(artifactDir, student);
        adoptedAt = new TreeMap<>();
        written = new TreeMap<>();
        state = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("merge", BytePrimitiveArraySerializer.INSTANCE));
        for (byte[] b : state.get()) {
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(b))) {
                records = in.readLong();
                syncBytes = in.readLong();
                lineage.read(in);
                for (int i = in.readInt(); i > 0; i--) {
                    written.put(in.readLong(), in.readUTF());
                }
            }
        }
    }

    @Override
    public void processElement(StreamRecord<DeltaRecord> element) {
        DeltaRecord d = element.getValue();
        rounds.computeIfAbsent(d.round, r -> new ArrayList<>()).add(d);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        for (Map.Entry<Long, List<DeltaRecord>> round : rounds.entrySet()) {
            adoptedAt.put(checkpointId, round.getValue().stream().mapToLong(d -> d.adoptedThrough).min().orElse(0));
            merge(round.getKey(), round.getValue());
        }
        rounds.clear();
    }

    private void merge(long round, List<DeltaRecord> parts) throws IOException {
        long started = System.nanoTime();
        List<ModelDelta> deltas = new ArrayList<>();
        long bytesIn = 0;
        for (DeltaRecord d : parts) {
            deltas.add(ModelDelta.fromBytes(d.delta));
            lineage.addAll(Lineage.fromBytes(d.lineage));
            records += d.records;
            bytesIn += d.delta.length;
        }
        ModelDelta merged = ModelDelta.mean(deltas);
        syncBytes += bytesIn + merged.bytes() * parts.size();
        String[] file = files.write(round, merged);
        written.put(round, file[0]);
        SyncPointer p = new SyncPointer();
        p.round = round;
        p.run = run;
        p.student = student;
        p.file = file[0];
        p.sha256 = file[1];
        p.records = records;
        p.syncBytes = syncBytes;
        p.lineage = lineage.toBytes();
        output.collect(new StreamRecord<>(p));
        LOG.info("merged sync round {} of student '{}': {} moves ({} bytes in, {} out, {} rows), {} records merged in all, in {} ms",
                round, student, parts.size(), bytesIn, merged.bytes(), merged.rows(), records, (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * Once a checkpoint in which every subtask had adopted round r is complete, no restore from it or
     * a later one needs r's file (pending rounds are newer). A file a failed attempt wrote and never
     * announced stays behind; files older than a checkpoint restored by hand may be gone.
     */
    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        Long adopted = adoptedAt.get(checkpointId);
        adoptedAt.headMap(checkpointId, true).clear();
        if (adopted == null) {
            return;
        }
        Map<Long, String> done = written.headMap(adopted, true);
        for (String file : done.values()) {
            SyncFiles.delete(file);
        }
        done.clear();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeLong(records);
            out.writeLong(syncBytes);
            lineage.write(out);
            out.writeInt(written.size());
            for (Map.Entry<Long, String> e : written.entrySet()) {
                out.writeLong(e.getKey());
                out.writeUTF(e.getValue());
            }
        }
        state.update(List.of(bytes.toByteArray()));
    }
}
