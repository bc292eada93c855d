package io.streamdistill.cli;

import io.streamdistill.teacher.model.HeadFitter;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code streamdistill fit-head --teacher NAME|DIR --corpus FILE [--out head.json] [--folds 5]}: a
 * logistic-regression head on the teacher's embeddings of a labelled corpus, its L2 strength chosen
 * by cross-validation and its temperature fitted on the held-out folds, compared with the prototype
 * head on the same folds. The file is a linear head the teacher loads
 * ({@code "head": {"type": "linear", "file": "head.json"}} in a descriptor).
 */
@Command(name = "fit-head", mixinStandardHelpOptions = true,
        description = "Fit a calibrated logistic-regression head for a teacher from a labelled corpus, cross-validated against prototypes.")
public final class FitHeadCommand implements Callable<Integer> {
    @Option(names = "--teacher", defaultValue = "all-MiniLM-L6-v2", description = "built-in teacher id, descriptor file or directory (default: ${DEFAULT-VALUE})")
    String teacherName;

    @Option(names = "--corpus", required = true, description = "labelled texts: .csv (text,label) or .jsonl; unlabelled rows are left out")
    Path corpus;

    @Option(names = "--out", defaultValue = "head.json", description = "the head file to write (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--folds", defaultValue = "5", description = "cross-validation folds (default: ${DEFAULT-VALUE})")
    int folds;

    @Option(names = "--prototype-scale", defaultValue = "20", description = "logit scale of the prototype head compared against (default: ${DEFAULT-VALUE})")
    float scale;

    @Option(names = "--threads", defaultValue = "1", description = "ONNX Runtime threads for the teacher (default: ${DEFAULT-VALUE})")
    int threads;

    @picocli.CommandLine.Mixin
    ReadBadLines badLines;

    @Override
    public Integer call() {
        if (folds < 2) {
            throw new IllegalArgumentException("--folds must be >= 2, got " + folds);
        }
        List<Corpus.Row> rows = badLines.load(corpus, "--corpus").rows().stream().filter(r -> r.label() != null && !r.label().isBlank()).toList();
        Map<String, Integer> counts = new LinkedHashMap<>();
        rows.forEach(r -> counts.merge(r.label(), 1, Integer::sum));
        if (counts.size() < 2) {
            throw new IllegalArgumentException("--corpus " + corpus + " has " + counts.size() + " labelled class(es) " + counts.keySet()
                    + "; a head needs at least 2");
        }
        counts.forEach((label, n) -> {
            if (n < folds) {
                throw new IllegalArgumentException("--corpus " + corpus + ": class '" + label + "' has " + n + " labelled rows, fewer"
                        + " than --folds " + folds);
            }
        });
        List<String> classes = new ArrayList<>(counts.keySet());
        List<String> texts = rows.stream().map(Corpus.Row::text).toList();
        int[] y = rows.stream().mapToInt(r -> classes.indexOf(r.label())).toArray();
        try (Teacher teacher = Teacher.load(TeacherDescriptor.resolve(teacherName), threads, Teacher.Device.CPU, 0)) {
            System.out.printf("fit-head: %d labelled rows of %s, %d classes %s, teacher %s, %d folds%n", rows.size(), corpus,
                    classes.size(), counts, teacher.descriptor().id(), folds);
            float[][] x = embed(teacher, texts);
            long t0 = System.nanoTime();
            HeadFitter.Fitted f = HeadFitter.fit(x, y, classes, texts, folds, scale);
            HeadFitter.Report r = f.report();
            System.out.printf("fitted in %.1f s: L2 %s chosen by cross-validation (accuracy by L2 %s)%n%n", (System.nanoTime() - t0) / 1e9,
                    r.lambda(), r.cvAccuracyByLambda());
            print("logistic regression (this head)", r.head());
            print("prototypes (" + HeadFitterDefaults.PROTOTYPES + " rows per class, scale " + scale + ")", r.prototypes());
            f.write(out);
            System.out.printf("%nCV accuracy %.4f against %.4f for prototypes (%+.1f points); ECE %.4f -> %.4f at temperature %.3f%n",
                    r.head().accuracy(), r.prototypes().accuracy(), 100 * (r.head().accuracy() - r.prototypes().accuracy()),
                    r.head().eceBefore(), r.head().eceAfter(), r.head().temperature());
            System.out.println("wrote " + out.toAbsolutePath() + " (sha256 " + f.sha256() + "); use it in a teacher descriptor as"
                    + " \"head\": {\"type\": \"linear\", \"file\": \"" + out.getFileName() + "\"}");
        }
        return 0;
    }

    private static void print(String title, HeadFitter.Scores s) {
        System.out.println(title + ":");
        System.out.printf("  %-24s %9s %9s %9s %8s%n", "class", "precision", "recall", "F1", "rows");
        for (HeadFitter.ClassScores c : s.perClass()) {
            System.out.printf("  %-24s %9.3f %9.3f %9.3f %8d%n", c.name(), c.precision(), c.recall(), c.f1(), c.support());
        }
        System.out.printf("  CV accuracy %.4f, macro-F1 %.4f, ECE %.4f before / %.4f after temperature %.3f%n", s.accuracy(), s.macroF1(),
                s.eceBefore(), s.eceAfter(), s.temperature());
    }

    /** The teacher's pooled embeddings, similar lengths batched together, with a progress line every few seconds. */
    private static float[][] embed(Teacher teacher, List<String> texts) {
        long start = System.nanoTime();
        long[] last = {start};
        return teacher.embedAll(teacher.tokenizer().encode(texts), 32, (done, total) -> {
            if (System.nanoTime() - last[0] > 2_000_000_000L) {
                last[0] = System.nanoTime();
                System.out.printf("  teacher: %d of %d texts, %.0f s%n", done, total, (last[0] - start) / 1e9);
            }
        });
    }

    /** What the prototype head compared against is built from (the demo's). */
    static final class HeadFitterDefaults {
        static final int PROTOTYPES = 16;

        private HeadFitterDefaults() {
        }
    }
}
