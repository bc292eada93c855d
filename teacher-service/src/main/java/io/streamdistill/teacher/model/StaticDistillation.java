package io.streamdistill.teacher.model;

import io.streamdistill.student.Hashing;
import io.streamdistill.student.init.StaticDistiller;
import io.streamdistill.student.init.StaticTable;
import io.streamdistill.student.tokenize.ClasspathFiles;
import io.streamdistill.student.tokenize.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link Teacher} through {@link StaticDistiller}: every vocabulary token in batches, then
 * PCA, SIF weights and calibration. {@link #cached} keeps the result under the cache directory,
 * keyed by the teacher encoder's sha256, D and the weighting, so a second start reads it back in
 * well under a second; a file whose content or teacher does not match is rebuilt, never used.
 */
public final class StaticDistillation {
    private static final Logger LOG = LoggerFactory.getLogger(StaticDistillation.class);
    /** Token sequences per teacher call: one-token texts are 3 positions long, so big batches are cheap. */
    public static final int BATCH = 256;
    /** Calibration texts for the map back to the teacher's space. */
    public static final int CALIBRATION_TEXTS = 512;

    /** A table and where it lives; {@code reused} when it came from the cache. */
    public record Result(StaticTable table, Path file, boolean reused) {
    }

    /** Distils {@code teacher} to D = {@code dim}; {@code corpus} (may be null) gives token counts and calibration texts. */
    public static StaticTable distill(Teacher teacher, int dim, List<String> corpus, StaticDistiller.Progress progress) {
        TextTokenizer tok = teacher.tokenizer();
        int vocab = tok.vocabSize();
        TextTokenizer.Wrapping wrapping = tok.wrapping();
        long[] counts = null;
        List<int[]> calibration;
        if (corpus != null && !corpus.isEmpty()) {
            counts = new long[vocab];
            List<int[]> encoded = new ArrayList<>(corpus.size());
            for (int from = 0; from < corpus.size(); from += 1024) {
                encoded.addAll(List.of(tok.encode(corpus.subList(from, Math.min(corpus.size(), from + 1024)))));
            }
            for (int[] ids : encoded) {
                for (int id : ids) {
                    counts[id]++;
                }
            }
            calibration = spread(encoded, CALIBRATION_TEXTS);
        } else {
            calibration = StaticDistiller.syntheticTexts(tok.vocabulary(), wrapping, CALIBRATION_TEXTS, 17);
        }
        Map<String, String> info = new LinkedHashMap<>();
        info.put("teacher", teacher.descriptor().id());
        info.put("teacher_sha256", teacher.encoderSha256());
        info.put("tokenizer", tok.id());
        info.put("pooling", teacher.descriptor().pooling().name());
        if (corpus != null && !corpus.isEmpty()) {
            info.put("corpus_sha256", corpusSha(corpus));
            info.put("corpus_texts", String.valueOf(corpus.size()));
        }
        StaticDistiller.Settings settings = new StaticDistiller.Settings(dim, BATCH, Double.NaN, counts);
        return StaticDistiller.distill(info, vocab, wrapping, tok.specialIds(), teacher::pooled, settings, calibration, progress);
    }

    /**
     * The table for {@code teacher} at {@code dim}, from {@code cacheDir} when a matching one is
     * there, otherwise distilled and written there.
     */
    public static Result cached(Teacher teacher, int dim, List<String> corpus, Path cacheDir, StaticDistiller.Progress progress) {
        Path file = cacheFile(cacheDir, teacher.encoderSha256(), dim, corpus);
        if (Files.isRegularFile(file)) {
            try {
                StaticTable t = StaticTable.read(file);
                if (t.teacherSha256().equals(teacher.encoderSha256()) && t.dim() == dim
                        && StaticDistiller.RECIPE.equals(t.info().get("recipe"))) {
                    return new Result(t, file, true);
                }
                LOG.warn("the cached static table {} belongs to another teacher or D; distilling again", file);
            } catch (IllegalArgumentException e) {
                LOG.warn("the cached static table {} cannot be used ({}); distilling again", file, e.getMessage());
            }
        }
        StaticTable t = distill(teacher, dim, corpus, progress);
        t.write(file);
        return new Result(t, file, false);
    }

    /**
     * {@code table} with its map back fitted on {@code texts} (up to {@link #CALIBRATION_TEXTS}, spread
     * over the list) instead of synthetic ones: the demo calibrates on its corpus's stream texts.
     */
    public static StaticTable recalibrate(StaticTable table, Teacher teacher, List<String> texts) {
        List<int[]> ids = List.of(teacher.tokenizer().encode(spread(texts, CALIBRATION_TEXTS)));
        return StaticDistiller.recalibrate(table, teacher::pooled, ids, "corpus:" + corpusSha(texts));
    }

    /** {@code <cacheDir>/<teacher encoder sha256>-d<D>-<rank | corpus-<sha256 prefix>>-<recipe>.sdstatic} */
    public static Path cacheFile(Path cacheDir, String teacherSha256, int dim, List<String> corpus) {
        String weighting = corpus == null || corpus.isEmpty() ? "rank" : "corpus-" + corpusSha(corpus).substring(0, 16);
        return cacheDir.resolve(teacherSha256 + "-d" + dim + "-" + weighting + "-" + StaticDistiller.RECIPE + ".sdstatic");
    }

    /** The default cache: {@code $STREAMDISTILL_CACHE_DIR/static} or {@code ~/.cache/streamdistill/static}. */
    public static Path defaultCacheDir() {
        return ClasspathFiles.cacheDir("static");
    }

    /** At most n items spread evenly over the list (calibration texts from anywhere in a corpus, not just its start). */
    static <T> List<T> spread(List<T> items, int n) {
        List<T> out = new ArrayList<>();
        int step = Math.max(1, items.size() / n);
        for (int i = 0; i < items.size() && out.size() < n; i += step) {
            out.add(items.get(i));
        }
        return out;
    }

    private static String corpusSha(List<String> corpus) {
        return Hashing.sha256(String.join("\n", corpus).getBytes(StandardCharsets.UTF_8));
    }

    /** A progress reporter printing one line about every two seconds (and at each phase's end) to {@code out}. */
    public static StaticDistiller.Progress printer(java.io.PrintStream out) {
        long start = System.nanoTime();
        long[] last = {0};
        return (phase, done, total) -> {
            long now = System.nanoTime();
            if (done == total || now - last[0] > 2_000_000_000L) {
                last[0] = now;
                out.printf("  static distillation: %s %d/%d (%.0f%%), %.0f s%n", phase, done, total, 100.0 * done / total,
                        (now - start) / 1e9);
            }
        };
    }

    private StaticDistillation() {
    }
}
