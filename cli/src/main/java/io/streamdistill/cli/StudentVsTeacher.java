package io.streamdistill.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.teacher.model.Teacher;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** A published student against its teacher on some texts: what the demo's summary and {@code eval} report. */
final class StudentVsTeacher {
    /** The class names an exported student carries in its metadata (empty for an embedding student). */
    static List<String> classNames(Map<String, String> metadata) {
        try {
            String json = metadata.getOrDefault(io.streamdistill.student.onnx.OnnxExporter.META_CLASS_NAMES, "[]");
            return List.of(new ObjectMapper().readValue(json, String[].class));
        } catch (IOException e) {
            throw new IllegalArgumentException("the model's class-name metadata is not a JSON list: " + e.getMessage(), e);
        }
    }

    /** Student vs teacher on some texts: top-1 agreement (or mean cosine) and label accuracies where labels exist. */
    record Quality(double agreement, int labelled, double teacherAccuracy, double studentAccuracy) {
    }

    static Quality compare(Teacher teacher, StudentRunner student, List<String> studentClasses, List<Corpus.Row> rows) {
        List<String> texts = rows.stream().map(Corpus.Row::text).toList();
        int[][] ids = teacher.tokenizer().encode(texts);
        float[][] teacherOut = teacher.infer(ids);
        float[][] studentOut = student.scoreIds(ids);
        boolean classification = !studentClasses.isEmpty();
        if (classification && !studentClasses.equals(teacher.classNames())) {
            throw new IllegalArgumentException("the student's classes " + studentClasses + " are not the teacher's " + teacher.classNames());
        }
        double agree = 0;
        int labelled = 0;
        double teacherCorrect = 0;
        double studentCorrect = 0;
        for (int i = 0; i < texts.size(); i++) {
            if (classification) {
                int t = DistillationLoss.argmax(teacherOut[i]);
                int s = DistillationLoss.argmax(studentOut[i]);
                agree += t == s ? 1 : 0;
                String label = rows.get(i).label();
                if (label != null) {
                    labelled++;
                    teacherCorrect += teacher.classNames().get(t).equals(label) ? 1 : 0;
                    studentCorrect += studentClasses.get(s).equals(label) ? 1 : 0;
                }
            } else {
                agree += DistillationLoss.cosine(teacherOut[i], studentOut[i]);
            }
        }
        return new Quality(agree / texts.size(), labelled, labelled == 0 ? Double.NaN : teacherCorrect / labelled,
                labelled == 0 ? Double.NaN : studentCorrect / labelled);
    }

    private StudentVsTeacher() {
    }
}
