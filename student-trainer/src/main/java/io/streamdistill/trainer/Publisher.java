package io.streamdistill.trainer;

import io.streamdistill.records.Artifact;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.records.TeacherRef;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.train.Learner;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns the model being trained into a published version: judges it with the quality gate, writes
 * its ONNX file to the artifact store and builds the checkpoint record that says what it is, what
 * it trained on and how good it is. Remembers the last version published, for the next one's gate.
 */
final class Publisher {
    /** A version that passed the gate: its number, where its ONNX file is, and the record to send (plain Avro). */
    record Version(long number, URI artifact, byte[] record) {
    }

    private final String student;
    private final String tokenizerId;
    private final ArtifactStore store;
    private final QualityGate gate;
    private final Map<String, String> settings;
    private final String configHash;
    private long version;
    private double lastAgreement = Double.NaN;
    private int lastCount;
    private String refusal;

    Publisher(TrainerConfig config, String tokenizerId) {
        this.student = config.string("student.name");
        this.tokenizerId = tokenizerId;
        this.store = new ArtifactStore(config.string("artifact.dir"));
        this.gate = QualityGate.of(config);
        this.settings = new TreeMap<>(config.shapingSettings());
        StringBuilder s = new StringBuilder();
        settings.forEach((k, v) -> s.append(k).append('=').append(v).append('\n'));
        this.configHash = Hashing.sha256(s.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Without saved state, versions continue after the highest one in the artifact store, so they still increase. */
    void continueAfterStore() throws IOException {
        version = store.highestVersion(student);
    }

    long version() {
        return version;
    }

    /** Why the last candidate was refused, or null when it was published. */
    String refusal() {
        return refusal;
    }

    /**
     * Publishes the trainer's student if the gate lets it, or returns null (and {@link #refusal()} says why).
     *
     * @param metrics what the version reports besides its holdout score (progressive scores, freshness)
     */
    Version publish(Learner trainer, HoldoutWindow.Score score, long recordsSeen, Lineage lineage, TeacherRef teacher,
                    Map<String, Double> metrics) throws IOException {
        refusal = gate.refusal(score.agreement(), score.count(), new QualityGate.Published(version, lastAgreement, lastCount));
        if (refusal != null) {
            return null;
        }
        // Claimed in the store, so a number another writer of this line (finetune) took, or an export this job made
        // but never published (a failure before its checkpoint), is never taken again.
        long next = store.claim(student, version + 1);
        byte[] onnx = trainer.exportOnnx(new OnnxExporter.Metadata(tokenizerId, next,
                Map.of("streamdistill.student_name", student)));
        String sha = Hashing.sha256(onnx);
        URI uri = store.write(student, next, onnx);
        Map<String, Double> all = new LinkedHashMap<>();
        all.put("holdout_agreement", score.agreement());
        all.put("holdout_records", (double) score.count());
        if (trainer.task() == Task.CLASSIFICATION) {
            all.put("holdout_kl", score.kl());
            all.put("holdout_label_accuracy", score.accuracy());
        }
        all.putAll(metrics);
        all.values().removeIf(v -> v == null || v.isNaN());
        StudentCheckpoint record = StudentCheckpoint.newBuilder()
                .setStudent(student)
                .setVersion(next)
                .setCreatedAt(Instant.now())
                .setStep(trainer.step())
                .setRecordsSeen(recordsSeen)
                .setTask(io.streamdistill.records.Task.valueOf(trainer.task().name()))
                .setArchitecture(trainer.describe())
                .setParameters(trainer.parameterCount())
                .setClassNames(trainer.classNames())
                .setSources(lineage.sources())
                .setTrainedIds(lineage.trainedIds())
                .setMetrics(all)
                .setArtifact(Artifact.newBuilder().setUri(uri.toString()).setSha256(sha).setBytes(onnx.length).setFormat("onnx").build())
                .setTeacher(teacher != null ? teacher : TeacherRef.newBuilder().setModelId("unknown").setSha256("").setTokenizer("").build())
                .setConfigHash(configHash)
                .setSettings(settings)
                .build();
        version = next;
        lastAgreement = score.agreement();
        lastCount = score.count();
        return new Version(next, uri, CheckpointRecords.encode(record));
    }

    void write(DataOutputStream out) throws IOException {
        out.writeLong(version);
        out.writeDouble(lastAgreement);
        out.writeInt(lastCount);
    }

    /** Reads what {@link #write} wrote; state format 1 kept no holdout count. */
    void read(DataInputStream in, int format) throws IOException {
        version = in.readLong();
        lastAgreement = in.readDouble();
        lastCount = format >= 2 ? in.readInt() : 0;
    }
}
