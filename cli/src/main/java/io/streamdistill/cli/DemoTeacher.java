package io.streamdistill.cli;

import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.HeadFitter;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The demo's classification teacher: all-MiniLM-L6-v2 with a head from the corpus's labelled stream
 * rows. With at least {@link #MIN_LABELS_PER_CLASS} labelled rows in every class, a logistic-regression
 * head is fitted on up to {@link #MAX_LABELS_PER_CLASS} of them per class and used when its
 * cross-validated accuracy beats the prototype head's on the same folds; otherwise the head is class
 * prototypes from 16 rows per class. Both thresholds were measured across corpora
 * (docs/benchmarks.md, "How many labels a fitted head needs").
 */
final class DemoTeacher {
    /**
     * Measured on six corpora: with 32 labelled rows per class the fitted head beat prototypes on held-out
     * rows in all six (+0.9 to +6.7 points), with 16 in five, with 8 in two.
     */
    static final int MIN_LABELS_PER_CLASS = 32;
    /** Rows per class the head is fitted on at most; gains went on growing to 128 (+3 to +12 points). */
    static final int MAX_LABELS_PER_CLASS = 128;
    /** And at most this many rows in all: the fit's cost grows with rows x classes (about 3 s here at 512 x 4). */
    static final int MAX_LABELS = 512;
    static final int FOLDS = 5;
    static final float PROTOTYPE_SCALE = 20f;

    /** The teacher chosen, and why; the fit's figures when one was made. */
    record Choice(TeacherDescriptor descriptor, String head, String reason, HeadFitter.Report fit) {
    }

    static Choice choose(List<Corpus.Row> stream, Path dataDir) {
        TeacherDescriptor base = BuiltInTeachers.ALL_MINILM_L6_V2.descriptor();
        TeacherDescriptor prototypes = base.withHead(new TeacherDescriptor.PrototypeSpec(prototypeExamples(stream), PROTOTYPE_SCALE),
                "all-MiniLM-L6-v2+prototypes");
        Map<String, List<String>> labelled = new LinkedHashMap<>();
        int classCount = (int) stream.stream().map(Corpus.Row::label).filter(java.util.Objects::nonNull).distinct().count();
        int perClass = Math.min(MAX_LABELS_PER_CLASS, MAX_LABELS / Math.max(1, classCount));
        for (Corpus.Row row : stream) {
            if (row.label() != null) {
                List<String> texts = labelled.computeIfAbsent(row.label(), l -> new ArrayList<>());
                if (texts.size() < perClass && !texts.contains(row.text())) {
                    texts.add(row.text());
                }
            }
        }
        String fewest = null;
        for (Map.Entry<String, List<String>> e : labelled.entrySet()) {
            if (fewest == null || e.getValue().size() < labelled.get(fewest).size()) {
                fewest = e.getKey();
            }
        }
        if (perClass < MIN_LABELS_PER_CLASS) {
            return new Choice(prototypes, "prototypes", String.format("%d classes: the demo fits a head on at most %d rows, fewer than"
                    + " the %d per class it needs (streamdistill fit-head has no such cap)", classCount, MAX_LABELS, MIN_LABELS_PER_CLASS), null);
        }
        if (labelled.get(fewest).size() < MIN_LABELS_PER_CLASS) {
            return new Choice(prototypes, "prototypes", String.format("class '%s' has %d labelled rows; a fitted head needs %d per class",
                    fewest, labelled.get(fewest).size(), MIN_LABELS_PER_CLASS), null);
        }
        List<String> classes = new ArrayList<>(labelled.keySet());
        List<String> texts = new ArrayList<>();
        List<Integer> y = new ArrayList<>();
        labelled.forEach((label, rows) -> rows.forEach(t -> {
            texts.add(t);
            y.add(classes.indexOf(label));
        }));
        long t0 = System.nanoTime();
        HeadFitter.Fitted fitted;
        try (Teacher encoder = Teacher.load(base, 1, Teacher.Device.CPU, 0)) {
            float[][] x = encoder.embedAll(encoder.tokenizer().encode(texts), 32, (done, total) -> { });
            fitted = HeadFitter.fit(x, y.stream().mapToInt(Integer::intValue).toArray(), classes, texts, FOLDS, PROTOTYPE_SCALE);
        }
        HeadFitter.Report r = fitted.report();
        String figures = String.format("CV accuracy %.3f against %.3f for prototypes on %d labelled rows, %d folds, %.1f s",
                r.head().accuracy(), r.prototypes().accuracy(), texts.size(), FOLDS, (System.nanoTime() - t0) / 1e9);
        if (r.head().accuracy() <= r.prototypes().accuracy()) {
            return new Choice(prototypes, "prototypes", "a fitted head did not beat them: " + figures, r);
        }
        Path file = dataDir.toAbsolutePath().resolve("fitted-head.json");
        fitted.write(file);
        return new Choice(base.withHead(new TeacherDescriptor.LinearSpec(file), "all-MiniLM-L6-v2+fitted-head"), "fitted",
                "logistic regression on the corpus's labels: " + figures, r);
    }

    /** Up to 16 example texts per label, in corpus order: the teacher's class prototypes. */
    static Map<String, List<String>> prototypeExamples(List<Corpus.Row> rows) {
        Map<String, List<String>> examples = new LinkedHashMap<>();
        for (Corpus.Row row : rows) {
            if (row.label() != null) {
                List<String> texts = examples.computeIfAbsent(row.label(), l -> new ArrayList<>());
                if (texts.size() < 16) {
                    texts.add(row.text());
                }
            }
        }
        if (examples.size() < 2) {
            throw new IllegalArgumentException("a prototype teacher needs labelled texts of at least 2 classes, got " + examples.keySet());
        }
        return examples;
    }

    private DemoTeacher() {
    }
}
