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
     * @param runDir      where the run's own files go: the head (it depends on the run's prototypes) and a
     *                    table calibrated on the run's texts
     * @param calibration texts to fit the map back on (a corpus's stream rows), or null for the cached
     *                    table's synthetic calibration
     */
    static Files prepare(Teacher teacher, int dim, Path cacheDir, Path runDir, PrintStream out, java.util.List<String> calibration) {
        long t0 = System.nanoTime();
        StaticDistillation.Result r = StaticDistillation.cached(teacher, dim, null, cacheDir, StaticDistillation.printer(out));
        StaticTable table = r.table();
        Path file = r.file();
        String calibrated = "";
        if (calibration != null && !calibration.isEmpty()) {
            // Measured (docs/benchmarks.md): the map back fitted on the corpus's own texts points far better than on
            // synthetic ones (embedding students' cosine before training 0.73 against 0.59 on the bundled corpus).
            table = StaticDistillation.recalibrate(table, teacher, calibration);
            file = runDir.resolve("static-table.sdstatic");
            table.write(file);
            calibrated = ", map back calibrated on " + table.info().get("calibration_texts") + " corpus texts (cosine "
                    + table.info().get("calibration_cosine") + ")";
        }
        out.printf("  static table: %s (D=%d, %s%s) in %.1f s%n", r.reused() ? "reused " + r.file() : "distilled into " + r.file(),
                dim, table.info().get("weighting"), calibrated, (System.nanoTime() - t0) / 1e9);
        Path head = null;
        if (teacher.linearHead() != null) {
            head = runDir.resolve("teacher-head.json");
            teacher.linearHead().write(head);
        }
        return new Files(table, file, head, r.reused());
    }

    private WarmStartFiles() {
    }
}
