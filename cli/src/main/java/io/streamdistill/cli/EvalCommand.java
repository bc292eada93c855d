package io.streamdistill.cli;

import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code streamdistill eval MODEL.onnx --texts FILE}: scores a published student against the
 * teacher on a file of texts (agreement or cosine; label accuracy where the file has labels),
 * after checking the model's sha256 when {@code --sha256} is given.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Score a student checkpoint (ONNX) against the teacher on a file of texts.")
public final class EvalCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "the student's model.onnx")
    Path model;

    @Option(names = "--texts", required = true, description = "texts to score: lines, .jsonl or .csv (text[,label])")
    Path texts;

    @Option(names = "--sha256", description = "the sha256 the checkpoint record gives; the file is refused if it differs")
    String sha256;

    @Option(names = "--teacher", defaultValue = "all-MiniLM-L6-v2",
            description = "built-in teacher id or descriptor file (default: ${DEFAULT-VALUE})")
    String teacherName;

    @Option(names = "--prototypes", description = "for a classification student without a teacher descriptor: a corpus"
            + " (.csv/.jsonl with labels) whose first 16 texts per label build the teacher's prototype head")
    Path prototypes;

    @picocli.CommandLine.Mixin
    ReadBadLines badLines;

    @Override
    public Integer call() {
        Corpus corpus = badLines.load(texts, "--texts");
        TeacherDescriptor d = BuiltInTeachers.byId(teacherName) != null ? BuiltInTeachers.byId(teacherName).descriptor()
                : TeacherDescriptor.read(Path.of(teacherName));
        if (prototypes != null) {
            d = d.withHead(new TeacherDescriptor.PrototypeSpec(DemoTeacher.prototypeExamples(badLines.load(prototypes, "--prototypes").rows()), 20f),
                    d.id() + "+prototypes");
        }
        try (Teacher teacher = Teacher.load(d, 1, Teacher.Device.CPU, 0);
             StudentRunner student = StudentRunner.load(model, sha256, teacher.tokenizer(), 1)) {
            List<String> classNames = StudentVsTeacher.classNames(student.metadata());
            StudentVsTeacher.Quality q = StudentVsTeacher.compare(teacher, student, classNames, corpus.rows());
            System.out.printf("%d texts: %s %.4f%s%n", corpus.rows().size(), classNames.isEmpty() ? "mean cosine" : "agreement",
                    q.agreement(), q.labelled() == 0 ? ""
                            : String.format(" | label accuracy on %d labelled: teacher %.4f, student %.4f", q.labelled(),
                            q.teacherAccuracy(), q.studentAccuracy()));
        }
        return 0;
    }
}
