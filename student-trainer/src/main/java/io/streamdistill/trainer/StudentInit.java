package io.streamdistill.trainer;

import io.streamdistill.records.TeacherRef;
import io.streamdistill.student.init.StaticTable;
import io.streamdistill.student.init.WarmStart;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How a new student starts ({@code student.init}): {@code random} (drawn from {@code student.seed}),
 * or {@code static:FILE}, a static table distilled from the teacher ({@code streamdistill
 * distill-static}), with the teacher's head in {@code student.init.head} for classification. A
 * warm-started student works before it has trained on anything, so the trainer publishes it at once.
 */
record StudentInit(String mode, Path table, Path head, WarmStart.Back map) {
    static final String RANDOM = "random";
    static final String STATIC = "static:";

    /** Parses and checks the settings (files are read when the student is built). */
    static StudentInit of(TrainerConfig config) {
        String init = config.string("student.init").trim();
        String head = config.string("student.init.head").trim();
        if (init.equals(RANDOM)) {
            return new StudentInit(RANDOM, null, null, null);
        }
        if (!init.startsWith(STATIC) || init.length() == STATIC.length()) {
            throw new IllegalArgumentException("student.init must be 'random' or 'static:FILE' (a table from streamdistill"
                    + " distill-static), got '" + init + "'");
        }
        if (config.task() == Task.CLASSIFICATION && head.isEmpty()) {
            throw new IllegalArgumentException("student.init=" + init + " for a CLASSIFICATION student needs student.init.head=FILE,"
                    + " the teacher's head (the demo and `streamdistill train --teacher` write it)");
        }
        String map = config.string("student.init.map").trim().toLowerCase(java.util.Locale.ROOT);
        WarmStart.Back back = switch (map) {
            // Measured across corpora (docs/benchmarks.md): the basis for classification, the fitted map for embeddings.
            case "", "auto" -> config.task() == Task.CLASSIFICATION ? WarmStart.Back.BASIS : WarmStart.Back.FITTED;
            case "basis" -> WarmStart.Back.BASIS;
            case "fitted" -> WarmStart.Back.FITTED;
            default -> throw new IllegalArgumentException("student.init.map must be auto, basis or fitted, got '" + map + "'");
        };
        return new StudentInit("static", Path.of(init.substring(STATIC.length())), head.isEmpty() ? null : Path.of(head), back);
    }

    boolean warm() {
        return table != null;
    }

    StudentTrainer create(StudentConfig config, TrainingConfig training) {
        if (!warm()) {
            return StudentTrainer.create(config, training);
        }
        WarmStart.TeacherHead teacherHead = null;
        if (config.task() == Task.CLASSIFICATION) {
            if (!Files.isRegularFile(head)) {
                throw new IllegalArgumentException("student.init.head " + head + " does not exist");
            }
            teacherHead = WarmStart.TeacherHead.read(head);
        }
        return StudentTrainer.create(WarmStart.student(config, readTable(), teacherHead, map), training);
    }

    /** The teacher the table came from, for the checkpoint record of a version trained on nothing yet. */
    TeacherRef teacherRef() {
        StaticTable t = readTable();
        return TeacherRef.newBuilder().setModelId(t.teacher()).setSha256(t.teacherSha256())
                .setTokenizer(t.info().getOrDefault("tokenizer", "")).build();
    }

    private StaticTable readTable() {
        if (!Files.isRegularFile(table)) {
            throw new IllegalArgumentException("student.init=static:" + table + ": the file does not exist (make it with"
                    + " streamdistill distill-static)");
        }
        return StaticTable.read(table);
    }
}
