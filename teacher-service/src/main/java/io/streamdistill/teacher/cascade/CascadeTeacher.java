package io.streamdistill.teacher.cascade;

import io.streamdistill.serving.Cascade;
import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The teacher a cascade falls back to, in process (ONNX Runtime on the CPU): what {@code serve --cascade},
 * {@code classify-stream --cascade} and the Flink SQL provider's {@code cascade} option wire into {@link Cascade}.
 */
public final class CascadeTeacher implements Cascade.Teacher, AutoCloseable {
    private final Teacher teacher;

    private CascadeTeacher(Teacher teacher) {
        this.teacher = teacher;
    }

    /**
     * @param name    a built-in id, descriptor file or directory; null: the demo's {@code teacher.json} in {@code dataDir}
     * @param dataDir a demo's data directory, or null
     */
    public static CascadeTeacher load(String name, Path dataDir) {
        if (name == null) {
            if (dataDir == null || !Files.isRegularFile(dataDir.resolve("teacher.json"))) {
                throw new IllegalArgumentException("which teacher answers for the cascade? give --teacher NAME|DIR (a demo's --data-dir"
                        + " has it as teacher.json)");
            }
            name = dataDir.resolve("teacher.json").toString();
        }
        Teacher t = Teacher.load(TeacherDescriptor.resolve(name), 1, Teacher.Device.CPU, 0);
        if (t.classNames() == null || t.classNames().isEmpty()) {
            t.close();
            throw new IllegalArgumentException("the cascade's teacher " + name + " is no classifier (a descriptor with a head answers"
                    + " classes; an embedding teacher does not)");
        }
        return new CascadeTeacher(t);
    }

    @Override
    public String id() {
        return teacher.descriptor().id();
    }

    public List<String> classNames() {
        return teacher.classNames();
    }

    /** Serialised: one teacher session answers every caller in turn. */
    @Override
    public synchronized float[][] probabilities(List<String> texts) {
        float[][] logits = teacher.infer(teacher.tokenizer().encode(texts));
        float[][] out = new float[logits.length][];
        for (int i = 0; i < logits.length; i++) {
            out[i] = DistillationLoss.probabilities(logits[i]);
        }
        return out;
    }

    @Override
    public void close() {
        teacher.close();
    }
}
