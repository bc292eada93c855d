package io.streamdistill.cli;

import io.streamdistill.student.init.StaticTable;
import io.streamdistill.teacher.model.StaticDistillation;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code streamdistill distill-static --teacher NAME|DIR --dim D [--corpus FILE] --out FILE}: a
 * static student table from the teacher (every vocabulary token through it, PCA to D, SIF
 * weights), what {@code student.init=static:FILE} warm-starts a student from. Cached by the
 * teacher encoder's sha256, D and the weighting: a second run copies the cached table.
 */
@Command(name = "distill-static", mixinStandardHelpOptions = true,
        description = "Distil a static student table from a teacher (Model2Vec's recipe): the file student.init=static:FILE reads.")
public final class DistillStaticCommand implements Callable<Integer> {
    @Option(names = "--teacher", defaultValue = "all-MiniLM-L6-v2",
            description = "built-in teacher id, descriptor file, or a directory with teacher.json or model.onnx + tokenizer.json"
                    + " (default: ${DEFAULT-VALUE})")
    String teacherName;

    @Option(names = "--dim", defaultValue = "" + WarmStartFiles.DEFAULT_DIM, description = "D, the student's width (default: ${DEFAULT-VALUE})")
    int dim;

    @Option(names = "--corpus", description = "texts (lines, .jsonl or .csv) whose token counts give the SIF weights and whose "
            + "first texts calibrate the map back; default: weights from token rank, synthetic calibration texts")
    Path corpus;

    @Option(names = "--out", description = "where to write the table (default: only the cache)")
    Path out;

    @Option(names = "--cache-dir", description = "the cache (default: $STREAMDISTILL_CACHE_DIR/static or ~/.cache/streamdistill/static)")
    Path cacheDir;

    @Option(names = "--threads", defaultValue = "1", description = "ONNX Runtime threads for the teacher (default: ${DEFAULT-VALUE})")
    int threads;

    @picocli.CommandLine.Mixin
    ReadBadLines badLines;

    @Override
    public Integer call() throws Exception {
        if (dim < 1) {
            throw new IllegalArgumentException("--dim must be >= 1, got " + dim);
        }
        TeacherDescriptor d = TeacherDescriptor.resolve(teacherName);
        List<String> texts = corpus == null ? null : badLines.load(corpus, "--corpus").rows().stream().map(Corpus.Row::text).toList();
        Path cache = cacheDir != null ? cacheDir : StaticDistillation.defaultCacheDir();
        long t0 = System.nanoTime();
        try (Teacher teacher = Teacher.load(d, threads, Teacher.Device.CPU, 0)) {
            if (dim > teacher.embeddingDim()) {
                throw new IllegalArgumentException("--dim " + dim + " is wider than the teacher's " + teacher.embeddingDim() + " dimensions");
            }
            System.out.printf("distilling %s (%d-d, %d tokens) to D=%d%s%n", d.id(), teacher.embeddingDim(), teacher.tokenizer().vocabSize(),
                    dim, texts == null ? "" : " with token counts from " + texts.size() + " texts of " + corpus);
            StaticDistillation.Result r = StaticDistillation.cached(teacher, dim, texts, cache, StaticDistillation.printer(System.out));
            StaticTable t = r.table();
            if (out != null) {
                if (out.toAbsolutePath().getParent() != null) {
                    Files.createDirectories(out.toAbsolutePath().getParent());
                }
                Files.copy(r.file(), out, StandardCopyOption.REPLACE_EXISTING);
            }
            System.out.printf("%s in %.1f s: explained variance %.3f, calibration cosine %s (basis only %s), teacher pass %s s, PCA %s s%n",
                    r.reused() ? "reused the cached table" : "distilled", (System.nanoTime() - t0) / 1e9, t.explainedVariance(),
                    t.info().get("calibration_cosine"), t.info().get("calibration_cosine_basis"), t.info().get("teacher_seconds"),
                    t.info().get("pca_seconds"));
            System.out.println("  teacher sha256 " + t.teacherSha256());
            System.out.println("  table sha256   " + t.sha256());
            System.out.println("  cache          " + r.file());
            if (out != null) {
                System.out.println("  wrote          " + out.toAbsolutePath());
            }
        }
        return 0;
    }
}
