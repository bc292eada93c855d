package io.streamdistill.cli;

import io.streamdistill.student.init.StaticTable;
import io.streamdistill.teacher.model.StaticDistillation;
import io.streamdistill.teacher.model.Teacher;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a warm-started trainer needs from its teacher, built or reused: the static table (from the
 * cache, or distilled into it) and, for a classification teacher, its head as a file. Returns the
 * trainer settings that point at them. The demo and {@code train --teacher} both use it.
 */
final class WarmStartFiles {
    /** D of the default student: chosen across corpora (docs/benchmarks.md, "Student quality"). */
    static final int DEFAULT_DIM = 128;
    /** Adam's rate for a warm-started student: chosen across corpora (docs/benchmarks.md). */
    static final String DEFAULT_LEARNING_RATE = "0.01";

    record Files(StaticTable table, Path tableFile, Path headFile, boolean reused) {
        Map<String, String> trainerSettings() {
            Map<String, String> s = new LinkedHashMap<>();
            s.put("student.init", "static:" + tableFile.toAbsolutePath());
            if (headFile != null) {
                s.put("student.init.head", headFile.toAbsolutePath().toString());
            }
            s.put("student.embedding.dim", String.valueOf(table.dim()));
            return s;
        }
    }

    /**
     * @param headDir where the head file goes (a run's own directory: the head depends on the run's prototypes)
     */
    static Files prepare(Teacher teacher, int dim, Path cacheDir, Path headDir, PrintStream out) {
        long t0 = System.nanoTime();
        StaticDistillation.Result r = StaticDistillation.cached(teacher, dim, null, cacheDir, StaticDistillation.printer(out));
        out.printf("  static table: %s (D=%d, %s) in %.1f s%n", r.reused() ? "reused " + r.file() : "distilled into " + r.file(),
                dim, r.table().info().get("weighting"), (System.nanoTime() - t0) / 1e9);
        Path head = null;
        if (teacher.linearHead() != null) {
            head = headDir.resolve("teacher-head.json");
            teacher.linearHead().write(head);
        }
        return new Files(r.table(), r.file(), head, r.reused());
    }

    private WarmStartFiles() {
    }
}
