package io.streamdistill.serving;

import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.ClientSettings;
import io.streamdistill.schemas.RandomShare;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.SerdeException;
import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.train.HoldoutSlice;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

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
        StudentCheckpoint[] newest = new StudentCheckpoint[1];
        readToEnd(clients, checkpointsTopic, r -> {
            StudentCheckpoint cp = decodeOrNull(checkpoints, r);
            if (cp != null && cp.getStudent().equals(student) && (newest[0] == null || cp.getVersion() > newest[0].getVersion())) {
                newest[0] = cp;
            }
            return false;
        });
        if (newest[0] == null) {
            throw new IllegalArgumentException("a cascade needs a published version of student '" + student + "'; " + checkpointsTopic
                    + " has none");
        }
        if (!newest[0].getTask().name().equals("CLASSIFICATION")) {
            throw new IllegalArgumentException("a cascade answers classification students; '" + student + "' is " + newest[0].getTask());
        }
        List<String> classes = List.copyOf(newest[0].getClassNames());
        if (!teacherClasses.equals(classes)) {
            throw new IllegalArgumentException("the cascade teacher's classes " + teacherClasses + " are not student '" + student + "''s "
                    + classes);
        }
        int percent = Integer.parseInt(newest[0].getSettings().getOrDefault("holdout.percent", DEFAULT_PERCENT));
        AvroDeserializer<SoftTarget> targets = new AvroDeserializer<>(registry, SoftTarget.class);
        List<Cascade.HoldoutText> holdout = new ArrayList<>();
        readToEnd(clients, softTargets, r -> {
            SoftTarget st = decodeOrNull(targets, r);
            if (st != null && st.getClassLogits() != null && st.getClassLogits().size() == classes.size() && RandomShare.contains(st)
                    && HoldoutSlice.contains(st.getId(), percent)) {
                float[] logits = new float[classes.size()];
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = st.getClassLogits().get(i);
                }
                holdout.add(new Cascade.HoldoutText(st.getText(), DistillationLoss.argmax(logits)));
            }
            return holdout.size() >= max;
        });
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

    /** Reads every partition of {@code topic} from its start to its end as of now (read_committed), until {@code done} says so. */
    private static void readToEnd(Map<String, String> clients, String topic, Predicate<ConsumerRecord<byte[], byte[]>> done) {
        Map<String, Object> c = new HashMap<>(ClientSettings.kafka(clients));
        c.put("bootstrap.servers", clients.get("bootstrap.servers"));
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic, Duration.ofSeconds(60)).forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading " + topic + " to its end took longer than " + READ_TIMEOUT.toMinutes() + " min");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (done.test(r)) {
                        return;
                    }
                }
            }
        }
    }

    private CascadeHoldout() {
    }
}
