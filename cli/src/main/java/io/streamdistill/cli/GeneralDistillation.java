package io.streamdistill.cli;

import io.streamdistill.student.init.GeneralStart;
import io.streamdistill.student.init.GeneralStudent;
import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.BatchResult;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.Learners;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.trainer.TrainerConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * General distillation (TinyBERT's first stage, DistilBERT's whole recipe): a student trained on its
 * teacher's pooled outputs over generic text, before any task data. The student is an embedding
 * student of the teacher's width (cosine to the teacher's unit vectors), built as the job would build
 * it from the same settings; what it learns here a task's student starts from
 * ({@code student.init=general:FILE}, {@link GeneralStart}).
 *
 * <p>The result is cached in its file by a key over the teacher's sha256, the student's settings and
 * the corpus's sha256: the same inputs reuse it. A run saves its progress beside the file
 * ({@code FILE.partial}) every {@code saveEvery} and resumes from there after an interruption. The
 * last sentences of the corpus are held out, never trained on, and say how close the student came.
 */
final class GeneralDistillation {
    /** Batches per window of the corpus that the teacher runs over at once, sorted by length. */
    static final int WINDOW_BATCHES = 32;

    /** Sentences held out for the before/after cosine: 1% of the corpus, at least 50 and at most 1,000. */
    static int heldOut(int sentences) {
        return Math.max(Math.min(50, sentences / 2), Math.min(1000, sentences / 100));
    }

    /**
     * @param stopAfter for tests: stop as an interruption would after this many sentences (progress saved); 0 runs to the end
     */
    record Options(Path out, List<Path> corpora, int maxSentences, int batch, Duration saveEvery, int stopAfter) {
        Options {
            if (batch < 1) {
                throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
            }
            if (maxSentences < 0) {
                throw new IllegalArgumentException("--sentences must be >= 0 (0: all), got " + maxSentences);
            }
            if (corpora.isEmpty()) {
                throw new IllegalArgumentException("--corpus: at least one file of sentences, one a line");
            }
        }
    }

    /**
     * @param complete  false when the run stopped early ({@link Options#stopAfter}); the progress is in {@code FILE.partial}
     * @param cosineBefore / cosineAfter mean cosine to the teacher on the held-out sentences
     */
    record Result(Path file, boolean reused, boolean complete, int trained, int resumedAt, double cosineBefore, double cosineAfter,
                  double seconds) {
    }

    private GeneralDistillation() {
    }

    /** The partial run's file beside {@code out}. */
    static Path partial(Path out) {
        return out.resolveSibling(out.getFileName() + ".partial");
    }

    /**
     * @param settings the student's trainer settings (a preset's, resolved against the teacher); the task is made EMBEDDING of
     *                 the teacher's width here
     */
    static Result run(Teacher teacher, String teacherId, Map<String, String> settings, Options o, PrintStream log) throws IOException {
        long t0 = System.nanoTime();
        Map<String, String> s = new LinkedHashMap<>(settings);
        s.put("student.task", Task.EMBEDDING.name());
        s.put("student.output.dim", String.valueOf(teacher.embeddingDim()));
        s.remove("student.classes");
        s.remove("student.init.head");
        TrainerConfig config = TrainerConfig.forStudent(s);
        Sentences corpus = Sentences.read(o.corpora(), o.maxSentences());
        int held = heldOut(corpus.sentences().size());
        int trainable = corpus.sentences().size() - held;
        if (trainable < o.batch()) {
            throw new IllegalArgumentException("--corpus holds " + corpus.sentences().size() + " sentences: too few to train on after "
                    + held + " held out");
        }
        String key = sha256(String.join("\n", teacher.ref().getSha256(), new TreeMap<>(s).toString(), corpus.sha256(),
                String.valueOf(o.maxSentences()), String.valueOf(o.batch())));
        Gemm gemm = Learners.defaultGemm();
        if (Files.exists(o.out())) {
            Map<String, String> existing = GeneralStudent.readInfo(o.out());
            if (key.equals(existing.get("key"))) {
                log.printf("distill-general: reused %s (made from the same teacher, settings and corpus; key %s)%n", o.out(), key.substring(0, 12));
                return new Result(o.out(), true, true, Integer.parseInt(existing.getOrDefault("sentences", "0")), 0,
                        Double.parseDouble(existing.getOrDefault("heldout_cosine_before", "NaN")),
                        Double.parseDouble(existing.getOrDefault("heldout_cosine_after", "NaN")), 0);
            }
            throw new IllegalArgumentException("--out " + o.out() + " exists and was made from another teacher, settings or corpus (key "
                    + existing.getOrDefault("key", "none") + ", this run's " + key + "): delete it or choose another --out");
        }
        try (TextTokenizer tok = StudentTokenizers.load(config.string("student.tokenizer"), config.integer("student.max.tokens"))) {
            Learner learner = null;
            int done = 0;
            double before = Double.NaN;
            Path partial = partial(o.out());
            if (Files.exists(partial)) {
                if (key.equals(GeneralStudent.readInfo(partial).get("key"))) {
                    GeneralStudent p = GeneralStudent.read(partial, gemm);
                    learner = p.learner();
                    done = Integer.parseInt(p.info().get("sentences_done"));
                    before = Double.parseDouble(p.info().getOrDefault("heldout_cosine_before", "NaN"));
                    log.printf("distill-general: resuming %s at sentence %,d of %,d (step %d)%n", partial, done, trainable, learner.step());
                } else {
                    log.printf("distill-general: %s is another run's progress (other inputs); starting afresh%n", partial);
                }
            }
            if (learner == null) {
                learner = config.newLearner(tok.vocabSize());
            }
            int resumedAt = done;
            List<String> heldTexts = corpus.sentences().subList(trainable, corpus.sentences().size());
            int[][] heldIds = tok.encode(heldTexts);
            float[][] heldTargets = teacher.embedAll(teacher.tokenizer().encode(heldTexts), o.batch(), (a, b) -> { });
            Map<String, String> info = info(teacherId, teacher, config, corpus, key, o, learner);
            if (done == 0) {
                before = heldOutCosine(learner, heldIds, heldTargets);
            }
            info.put("heldout_cosine_before", String.valueOf(before));
            log.printf("distill-general: %s from %s over %,d sentences (%s; %,d held out), batch %d; held-out cosine to the teacher"
                    + " %.4f before%n", learner.describe(), teacherId, trainable, corpus.describe(), held, o.batch(), before);
            long lastSave = System.nanoTime();
            long lastPrint = System.nanoTime();
            long runStart = System.nanoTime();
            double recentCosine = Double.NaN;
            int window = o.batch() * WINDOW_BATCHES;
            float[][] windowTargets = null;
            int windowStart = -1;
            while (done < trainable) {
                int to = Math.min(trainable, done + o.batch());
                // The teacher runs over fixed windows of the corpus, sorted by length inside (little padding); the
                // same window whatever the run's starting point, so a resumed run sees the very same targets.
                int w = done / window * window;
                if (w != windowStart) {
                    List<String> windowTexts = corpus.sentences().subList(w, Math.min(trainable, w + window));
                    windowTargets = teacher.embedAll(teacher.tokenizer().encode(windowTexts), o.batch(), (a, b) -> { });
                    windowStart = w;
                }
                List<String> texts = corpus.sentences().subList(done, to);
                int[][] ids = tok.encode(texts);
                List<Example> batch = new ArrayList<>(texts.size());
                for (int i = 0; i < ids.length; i++) {
                    batch.add(Example.unlabelled(ids[i], windowTargets[done - windowStart + i]));
                }
                BatchResult r = learner.train(batch);
                recentCosine = Double.isNaN(recentCosine) ? r.meanAgreement() : 0.98 * recentCosine + 0.02 * r.meanAgreement();
                done = to;
                long now = System.nanoTime();
                if (now - lastPrint > 10_000_000_000L || done == trainable) {
                    double rate = (done - resumedAt) / ((now - runStart) / 1e9);
                    log.printf("distill-general: %,d / %,d sentences (%.1f%%) | %.0f sentences/s | training cosine %.4f | ETA %s%n", done,
                            trainable, 100.0 * done / trainable, rate, recentCosine, eta((trainable - done) / Math.max(rate, 1e-9)));
                    lastPrint = now;
                }
                boolean stop = o.stopAfter() > 0 && done >= o.stopAfter() && done < trainable;
                if (stop || now - lastSave > o.saveEvery().toNanos()) {
                    Map<String, String> progress = new LinkedHashMap<>(info);
                    progress.put("sentences_done", String.valueOf(done));
                    new GeneralStudent(learner, Float.NaN, progress).write(partial);
                    lastSave = now;
                }
                if (stop) {
                    log.printf("distill-general: stopped at sentence %,d; the next run with the same inputs resumes from %s%n", done, partial);
                    return new Result(partial, false, false, done, resumedAt, before, Double.NaN, (System.nanoTime() - t0) / 1e9);
                }
            }
            double after = heldOutCosine(learner, heldIds, heldTargets);
            List<int[]> calibration = new ArrayList<>();
            for (int[] ids : heldIds) {
                calibration.add(ids);
            }
            float norm = GeneralStart.outputNorm(learner, calibration);
            double seconds = (System.nanoTime() - t0) / 1e9;
            info.put("sentences", String.valueOf(trainable));
            info.put("steps", String.valueOf(learner.step()));
            info.put("heldout_cosine_after", String.valueOf(after));
            info.put("output_norm", String.valueOf(norm));
            info.put("seconds", String.format(java.util.Locale.ROOT, "%.1f", seconds));
            new GeneralStudent(learner, norm, info).write(o.out());
            Files.deleteIfExists(partial);
            log.printf("distill-general: wrote %s in %.1f s: held-out cosine to the teacher %.4f -> %.4f over %,d sentences%n", o.out(),
                    seconds, before, after, trainable);
            return new Result(o.out(), false, true, trainable, resumedAt, before, after, seconds);
        }
    }

    private static Map<String, String> info(String teacherId, Teacher teacher, TrainerConfig config, Sentences corpus, String key,
                                            Options o, Learner learner) {
        Map<String, String> info = new LinkedHashMap<>();
        info.put("key", key);
        info.put("teacher", teacherId);
        info.put("teacher_sha256", teacher.ref().getSha256());
        info.put("tokenizer", config.string("student.tokenizer"));
        info.put("student", learner.describe());
        info.put("architecture", learner.architecture());
        info.put("corpus", corpus.describe());
        info.put("corpus_sha256", corpus.sha256());
        info.put("batch", String.valueOf(o.batch()));
        config.canonical().forEach((k, v) -> {
            if (k.startsWith("student.") || k.startsWith("training.")) {
                info.put("setting." + k, v);
            }
        });
        return info;
    }

    private static double heldOutCosine(Learner learner, int[][] ids, float[][] targets) {
        double sum = 0;
        for (int i = 0; i < ids.length; i++) {
            float[] p = learner.predict(ids[i]);
            double dot = 0;
            for (int j = 0; j < p.length; j++) {
                dot += (double) p[j] * targets[i][j];
            }
            sum += dot;
        }
        return sum / ids.length;
    }

    private static String eta(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
    }

    static String sha256(String text) {
        return io.streamdistill.student.Hashing.sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Sentences of the corpus files, one a line (blank lines skipped), in order, with the sha256 of the files' bytes. */
    record Sentences(List<String> sentences, String sha256, List<Path> files) {
        static Sentences read(List<Path> files, int max) {
            MessageDigest digest;
            try {
                digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            List<String> sentences = new ArrayList<>();
            for (Path f : files) {
                if (!Files.isRegularFile(f)) {
                    throw new IllegalArgumentException("--corpus " + f + " does not exist" + (f.toString().contains("corpus/general")
                            ? " (build it with: bash corpus/general/build_all.sh)" : ""));
                }
                try (InputStream in = new DigestInputStream(Files.newInputStream(f), digest);
                     BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        String t = line.strip();
                        if (!t.isEmpty() && (max == 0 || sentences.size() < max)) {
                            sentences.add(t);
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read --corpus " + f + ": " + e.getMessage(), e);
                }
            }
            return new Sentences(sentences, HexFormat.of().formatHex(digest.digest()), files);
        }

        String describe() {
            return files.stream().map(f -> f.getFileName().toString()).toList() + ", sha256 " + sha256.substring(0, 12);
        }
    }
}
