package io.streamdistill.serving;

import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.ClientSettings;
import io.streamdistill.schemas.RandomShare;
import io.streamdistill.schemas.TopicSnapshot;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.SerdeException;
import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.train.HoldoutSlice;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The texts a cascade is calibrated on: the soft targets the trainer held out of training for a student
 * (its newest version's {@code holdout.percent} of the random share, by id), each with its teacher's class.
 * The student's task and classes are checked against the cascade's teacher first.
 */
public final class CascadeHoldout {
    /** The trainer's default share held out, for a record that does not say (records of this trainer always do). */
    private static final String DEFAULT_PERCENT = "5";
    private static final Duration READ_TIMEOUT = Duration.ofMinutes(5);

    /**
     * @param clients        bootstrap.servers, schema.registry.url and the pass-through client settings
     * @param teacherClasses the cascade teacher's classes, which must be the student's
     * @param max            at most this many texts
     */
    public static List<Cascade.HoldoutText> read(Map<String, String> clients, String checkpointsTopic, String student,
                                                 String softTargets, int max, List<String> teacherClasses) {
        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.fromMap(ClientSettings.registry(clients)));
        AvroDeserializer<StudentCheckpoint> checkpoints = new AvroDeserializer<>(registry, StudentCheckpoint.class);
        StudentCheckpoint newest = TopicSnapshot.read(clients, checkpointsTopic, r -> {
            StudentCheckpoint cp = decodeOrNull(checkpoints, r);
            return cp != null && cp.getStudent().equals(student) ? cp : null;
        }, Integer.MAX_VALUE, READ_TIMEOUT).stream().max(java.util.Comparator.comparingLong(StudentCheckpoint::getVersion)).orElse(null);
        if (newest == null) {
            throw new IllegalArgumentException("a cascade needs a published version of student '" + student + "'; " + checkpointsTopic
                    + " has none");
        }
        if (!newest.getTask().name().equals("CLASSIFICATION")) {
            throw new IllegalArgumentException("a cascade answers classification students; '" + student + "' is " + newest.getTask());
        }
        List<String> classes = List.copyOf(newest.getClassNames());
        if (!teacherClasses.equals(classes)) {
            throw new IllegalArgumentException("the cascade teacher's classes " + teacherClasses + " are not student '" + student + "''s "
                    + classes);
        }
        int percent = Integer.parseInt(newest.getSettings().getOrDefault("holdout.percent", DEFAULT_PERCENT));
        AvroDeserializer<SoftTarget> targets = new AvroDeserializer<>(registry, SoftTarget.class);
        List<Cascade.HoldoutText> holdout = TopicSnapshot.read(clients, softTargets, r -> {
            SoftTarget st = decodeOrNull(targets, r);
            if (st == null || st.getClassLogits() == null || st.getClassLogits().size() != classes.size() || !RandomShare.contains(st)
                    || !HoldoutSlice.contains(st.getId(), percent)) {
                return null;
            }
            float[] logits = new float[classes.size()];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = st.getClassLogits().get(i);
            }
            return new Cascade.HoldoutText(st.getText(), DistillationLoss.argmax(logits));
        }, max, READ_TIMEOUT);
        if (holdout.size() < 10) {
            throw new IllegalArgumentException("a cascade needs held-out soft targets to calibrate on: " + softTargets + " holds "
                    + holdout.size() + " of student '" + student + "' (holdout.percent " + percent + "), at least 10 are needed");
        }
        return holdout;
    }

    /** A record that does not decode is passed over (the trainer dead-letters it); a registry outage is thrown. */
    private static <T> T decodeOrNull(AvroDeserializer<T> d, ConsumerRecord<byte[], byte[]> r) {
        try {
            return d.deserialize(r.topic(), r.value());
        } catch (SerdeException e) {
            if (e.isOutage()) {
                throw e;
            }
            return null;
        }
    }

    private CascadeHoldout() {
    }
}
