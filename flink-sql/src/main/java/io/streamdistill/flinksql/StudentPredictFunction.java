package io.streamdistill.flinksql;

import io.streamdistill.serving.Cascade;
import io.streamdistill.serving.CascadeHoldout;
import io.streamdistill.serving.CheckpointFollower;
import io.streamdistill.serving.FollowedStudent;
import io.streamdistill.serving.ModelHolder;
import io.streamdistill.serving.ServedModel;
import io.streamdistill.teacher.cascade.CascadeTeacher;
import java.util.Collection;
import java.util.List;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.PredictFunction;

/**
 * One task's predictions: it follows the student on its checkpoint topic (read_committed; each new version's
 * file verified by sha256 and warmed up before it is swapped in, as serve does) and answers each row with
 * the version current when the row arrives, so a running job moves to new versions between rows without a
 * restart. A row whose text is null gets a row of nulls: every input row is answered once. With a cascade, the rows the
 * version is least sure of are answered by the teacher, in the task (calibrated per version, as serve's cascade).
 * Public: the planner's generated code refers to it by name.
 */
public final class StudentPredictFunction extends PredictFunction {
    private final StudentModelProvider.Spec spec;
    private transient FollowedStudent student;
    private transient CascadeTeacher teacher;
    private transient Cascade cascade;

    StudentPredictFunction(StudentModelProvider.Spec spec) {
        this.spec = spec;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        // ONNX Runtime's native start-up needs a deep stack: a TaskManager's task thread has too small a one, and the
        // process died without a word on a cluster (TrainerToSqlOnFlinkClusterTest). So the loading runs on a thread of its own.
        Exception[] failure = new Exception[1];
        Thread loader = new Thread(null, () -> {
            try {
                load();
            } catch (Exception e) {
                failure[0] = e;
            }
        }, "streamdistill-predict-open", 64L << 20);
        loader.start();
        loader.join();
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    private void load() throws Exception {
        io.streamdistill.student.onnx.StudentRunner.initNative();
        CheckpointFollower.Settings follow = new CheckpointFollower.Settings(spec.clients(), spec.checkpointsTopic(), spec.student(),
                spec.pinnedVersion());
        StudentModelProvider.CascadeSpec c = spec.cascade();
        if (c != null) {
            teacher = CascadeTeacher.load(c.teacher(), null);
            cascade = new Cascade(teacher, Cascade.Target.parse(c.target()), CascadeHoldout.read(spec.clients(), spec.checkpointsTopic(),
                    spec.student(), c.topic(), c.holdoutTexts(), teacher.classNames()));
        }
        // With a cascade each version is calibrated on the held-out texts before it answers a row.
        student = new FollowedStudent(follow, spec.tokenizer(), cascade == null ? m -> { } : cascade::calibration);
        student.awaitFirstVersion(spec.firstVersionWait(), "student '" + spec.student() + "'");
    }

    @Override
    public Collection<RowData> predict(RowData input) {
        GenericRowData out = new GenericRowData(spec.outputs().size());
        if (input.isNullAt(0)) {
            return List.of(out);
        }
        try (ModelHolder.Lease lease = student.holder().acquire()) {
            ServedModel m = lease.model(); // never null after open: a follower keeps its last good version
            List<String> text = List.of(input.getString(0).toString());
            float[] scores = m.score(text)[0];
            boolean byTeacher = false;
            if (cascade != null) {
                Cascade.Answer a = cascade.answer(m, text, new float[][] {scores}).get(0);
                scores = a.probabilities();
                byTeacher = a.byTeacher();
            }
            int best = 0;
            for (int k = 1; k < scores.length; k++) {
                best = scores[k] > scores[best] ? k : best;
            }
            for (int i = 0; i < spec.outputs().size(); i++) {
                out.setField(i, field(spec.outputs().get(i), m, scores, best, byTeacher));
            }
        }
        return List.of(out);
    }

    /** One output column's value, as serve answers it ({@link ServedModel#answer}), built without the map per row. */
    private static Object field(OutputColumn column, ServedModel m, float[] scores, int best, boolean byTeacher) {
        boolean classification = m.task().equals("CLASSIFICATION");
        return switch (column) {
            case VERSION -> m.version();
            case STUDENT -> StringData.fromString(m.student());
            case LABEL -> classification ? StringData.fromString(best < m.classNames().size() ? m.classNames().get(best)
                    : String.valueOf(best)) : null;
            case CONFIDENCE -> classification ? (double) scores[best] : null;
            case PROBABILITIES -> {
                if (!classification) {
                    yield null;
                }
                double[] p = new double[scores.length];
                for (int k = 0; k < p.length; k++) {
                    p[k] = scores[k];
                }
                yield new GenericArrayData(p);
            }
            case EMBEDDING -> classification ? null : new GenericArrayData(scores.clone());
            case ANSWERED_BY -> StringData.fromString(byTeacher ? "teacher" : "student");
        };
    }

    @Override
    public void close() throws Exception {
        if (student != null) {
            student.close();
        }
        if (teacher != null) {
            teacher.close();
        }
    }
}
