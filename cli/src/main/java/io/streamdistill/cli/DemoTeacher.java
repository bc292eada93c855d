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
    /** Below this many labels per class a fitted head did not beat prototypes reliably on held-out rows. */
    static final int MIN_LABELS_PER_CLASS = 64;
    /** Rows per class the head is fitted on: more gained little and cost the demo's start-up time. */
    static final int MAX_LABELS_PER_CLASS = 128;
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
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Corpus.Row row : stream) {
            if (row.label() != null) {
                counts.merge(row.label(), 1, Integer::sum);
                List<String> texts = labelled.computeIfAbsent(row.label(), l -> new ArrayList<>());
                if (texts.size() < MAX_LABELS_PER_CLASS && !texts.contains(row.text())) {
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
