package io.streamdistill.trainer.finetune;

import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.onnx.ArtifactIntegrityException;
import io.streamdistill.student.onnx.OnnxImporter;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.Learners;
import io.streamdistill.student.train.TrainingConfig;
import io.streamdistill.schemas.TopicSnapshot;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.fs.Path;

/** The published versions of one student on a checkpoints topic, and a chosen version's verified file. */
public final class StudentLine {
    private final String student;
    private final String topic;
    private final List<StudentCheckpoint> versions;

    private StudentLine(String student, String topic, List<StudentCheckpoint> versions) {
        this.student = student;
        this.topic = topic;
        this.versions = versions;
    }

    /** Every version of {@code student} on a topic that may not exist yet (an experiment topic finetune will create): none then. */
    public static StudentLine readIfExists(Map<String, String> base, SchemaRegistryClient registry, String topic, String student) {
        return TopicSnapshot.exists(base, topic) ? read(base, registry, topic, student) : new StudentLine(student, topic, List.of());
    }

    /** Every version of {@code student} the topic holds, by version. */
    public static StudentLine read(Map<String, String> base, SchemaRegistryClient registry, String topic, String student) {
        AvroDeserializer<StudentCheckpoint> d = new AvroDeserializer<>(registry, StudentCheckpoint.class);
        List<StudentCheckpoint> all = TopicSnapshot.read(base, topic, r -> {
            StudentCheckpoint c = d.deserialize(r.topic(), r.value());
            return c != null && c.getStudent().equals(student) ? c : null;
        }, Integer.MAX_VALUE, Duration.ofSeconds(60));
        return new StudentLine(student, topic, all.stream().sorted(Comparator.comparingLong(StudentCheckpoint::getVersion)).toList());
    }

    public List<StudentCheckpoint> versions() {
        return versions;
    }

    /** The highest version published (0 when none). */
    public long highestVersion() {
        return versions.isEmpty() ? 0 : versions.get(versions.size() - 1).getVersion();
    }

    /** A version by number, or the newest for "latest". */
    public StudentCheckpoint version(String which) {
        if (versions.isEmpty()) {
            throw new IllegalArgumentException("no version of student '" + student + "' is published on " + topic);
        }
        if (which == null || which.equals("latest")) {
            return versions.get(versions.size() - 1);
        }
        long n;
        try {
            n = Long.parseLong(which);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--from-version must be a version number or 'latest', got '" + which + "'");
        }
        return versions.stream().filter(v -> v.getVersion() == n).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "student '" + student + "' has no version " + n + " on " + topic + "; published: " + versions.stream()
                        .map(v -> String.valueOf(v.getVersion())).toList()));
    }

    /**
     * The version's ONNX file, checked against the sha256 its record was published with, read back as a
     * student of whichever architecture it holds, ready to train with {@code training} from fresh optimiser state.
     *
     * @throws ArtifactIntegrityException when the file differs from what was published
     */
    public static Learner load(StudentCheckpoint version, TrainingConfig training) {
        byte[] bytes = bytes(version);
        String actual = Hashing.sha256(bytes);
        if (!actual.equals(version.getArtifact().getSha256())) {
            throw new ArtifactIntegrityException("the file of student '" + version.getStudent() + "' version " + version.getVersion()
                    + " (" + version.getArtifact().getUri() + ") has SHA-256 " + actual + " but was published with "
                    + version.getArtifact().getSha256() + ": it was altered after publication; refusing to fine-tune it");
        }
        return OnnxImporter.readLearner(bytes, training, Learners.defaultGemm());
    }

    private static byte[] bytes(StudentCheckpoint version) {
        Path file = new Path(URI.create(version.getArtifact().getUri()));
        try (InputStream in = file.getFileSystem().open(file)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the file of student '" + version.getStudent() + "' version "
                    + version.getVersion() + " at " + version.getArtifact().getUri() + ": " + e.getMessage(), e);
        }
    }

    /** The directory the trainer's artifact store writes this student's versions under (its artifact.dir). */
    public static URI artifactBase(StudentCheckpoint version) {
        String uri = version.getArtifact().getUri();
        String suffix = "/" + version.getStudent() + "/" + version.getVersion() + "/model.onnx";
        if (!uri.endsWith(suffix)) {
            throw new IllegalArgumentException("the file of version " + version.getVersion() + " (" + uri + ") is not in the"
                    + " trainer's <artifact.dir>/<student>/<version>/model.onnx layout: give --artifact-dir");
        }
        return URI.create(uri.substring(0, uri.length() - suffix.length() + 1));
    }
}
