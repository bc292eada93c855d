package io.streamdistill.cli;

import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.RandomShare;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.SerdeException;
import io.streamdistill.serving.Cascade;
import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.train.HoldoutSlice;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import io.streamdistill.trainer.TrainerConfig;
import io.streamdistill.trainer.TopicSnapshot;
import io.streamdistill.trainer.finetune.StudentLine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The teacher a cascade falls back to, in process (ONNX Runtime on the CPU), and the held-out texts it is
 * calibrated on: what {@code serve --cascade} wires into {@link Cascade}.
 */
final class CascadeTeacher implements Cascade.Teacher, AutoCloseable {
    private final Teacher teacher;

    private CascadeTeacher(Teacher teacher) {
        this.teacher = teacher;
    }

    /** @param name a built-in id, descriptor or directory; null: the demo's teacher.json in {@code dataDir} */
    static CascadeTeacher load(String name, Path dataDir) {
        if (name == null) {
            if (dataDir == null || !Files.isRegularFile(dataDir.resolve("teacher.json"))) {
                throw new IllegalArgumentException("which teacher answers for the cascade? give --teacher NAME|DIR (a demo's --data-dir"
                        + " has it as teacher.json)");
            }
            name = dataDir.resolve("teacher.json").toString();
        }
        return new CascadeTeacher(Teacher.load(TeacherDescriptor.resolve(name), 1, Teacher.Device.CPU, 0));
    }

    @Override
    public String id() {
        return teacher.descriptor().id();
    }

    List<String> classNames() {
        return teacher.classNames();
    }

    /** Serialised: one teacher session answers every request thread in turn. */
    @Override
    public synchronized float[][] probabilities(List<String> texts) {
        float[][] logits = teacher.infer(teacher.tokenizer().encode(texts));
        float[][] out = new float[logits.length][];
        for (int i = 0; i < logits.length; i++) {
            out[i] = softmax(logits[i]);
        }
        return out;
    }

    static float[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) {
            max = Math.max(max, x);
        }
        double sum = 0;
        float[] p = new float[logits.length];
        for (int k = 0; k < p.length; k++) {
            sum += Math.exp(logits[k] - max);
        }
        for (int k = 0; k < p.length; k++) {
            p[k] = (float) (Math.exp(logits[k] - max) / sum);
        }
        return p;
    }

    /**
     * The cascade for {@code student}: its classes must be the teacher's; it is calibrated on the soft targets the
     * trainer held out (its newest version's {@code holdout.percent}), each with the teacher's class.
     */
    static Cascade cascade(CascadeTeacher teacher, Cascade.Target target, Map<String, String> base, SchemaRegistryClient registry,
                           String checkpointsTopic, String student, String softTargets, int max) {
        StudentCheckpoint newest = StudentLine.read(base, registry, checkpointsTopic, student).version("latest");
        if (!newest.getTask().name().equals("CLASSIFICATION")) {
            throw new IllegalArgumentException("--cascade answers classification students; '" + student + "' is " + newest.getTask());
        }
        List<String> classes = List.copyOf(newest.getClassNames());
        if (!teacher.classNames().equals(classes)) {
            throw new IllegalArgumentException("the teacher's classes " + teacher.classNames() + " are not the student's " + classes);
        }
        int percent = Integer.parseInt(newest.getSettings().getOrDefault("holdout.percent", TrainerConfig.defaultValue("holdout.percent")));
        AvroDeserializer<SoftTarget> d = new AvroDeserializer<>(registry, SoftTarget.class);
        List<Cascade.HoldoutText> holdout = new ArrayList<>();
        TopicSnapshot.read(base, softTargets, r -> {
            SoftTarget st;
            try {
                st = d.deserialize(r.topic(), r.value());
            } catch (SerdeException e) {
                return null;
            }
            if (st == null || st.getClassLogits() == null || st.getClassLogits().size() != classes.size() || holdout.size() >= max
                    || !RandomShare.contains(st) || !HoldoutSlice.contains(st.getId(), percent)) {
                return null;
            }
            float[] logits = new float[classes.size()];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = st.getClassLogits().get(i);
            }
            holdout.add(new Cascade.HoldoutText(st.getText(), DistillationLoss.argmax(logits)));
            return Boolean.TRUE;
        }, Integer.MAX_VALUE, Duration.ofMinutes(5));
        if (holdout.size() < 10) {
            throw new IllegalArgumentException("--cascade needs held-out soft targets to calibrate on: " + softTargets + " holds "
                    + holdout.size() + " of student '" + student + "' (holdout.percent " + percent + ")");
        }
        return new Cascade(teacher, target, holdout);
    }

    @Override
    public void close() {
        teacher.close();
    }
}
