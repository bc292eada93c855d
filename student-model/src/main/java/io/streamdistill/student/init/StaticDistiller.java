package io.streamdistill.student.init;

import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Static distillation of a teacher (Model2Vec's {@code distill}): every token of the teacher's
 * vocabulary goes through the teacher between the tokenizer's own special tokens, pooled as the
 * teacher pools; the rows are centred and projected on their top D principal components, then
 * scaled by SIF weights. Special tokens get zero rows (they are in every text and say nothing).
 * Finally the map back to the teacher's space is calibrated on a few hundred texts (corpus texts,
 * or synthetic ones drawn from the vocabulary's words), see {@link StaticTable}.
 *
 * <p>The maths only: running the teacher is the {@link Encoder}'s job (teacher-service).
 */
public final class StaticDistiller {

    /** Pooled teacher outputs of token id sequences (special tokens included), before any normalisation. */
    public interface Encoder {
        float[][] pooled(int[][] ids);
    }

    /** Reports progress: {@code done} of {@code total} units of the named phase. */
    public interface Progress {
        void update(String phase, int done, int total);

        Progress NONE = (phase, done, total) -> { };
    }

    /**
     * @param dim       D, the student's embedding width
     * @param batchSize token sequences per teacher call
     * @param sifA      a in a/(a+p); NaN for the default of the weighting in use
     * @param counts    token counts on a corpus (length vocabSize), or null to estimate p from rank
     */
    public record Settings(int dim, int batchSize, double sifA, long[] counts) {
        public Settings {
            if (dim < 1) {
                throw new IllegalArgumentException("--dim must be >= 1, got " + dim);
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("the batch size must be >= 1, got " + batchSize);
            }
        }

        public double a() {
            return !Double.isNaN(sifA) ? sifA : counts == null ? SifWeights.RANK_A : SifWeights.COUNT_A;
        }

        /** How the weights were made, for the table's info and cache keys. */
        public String weighting() {
            return (counts == null ? "rank" : "corpus") + ":a=" + a();
        }
    }

    /**
     * Distils the teacher.
     *
     * @param info        what the table records about its origin (must hold {@code teacher} and {@code teacher_sha256})
     * @param vocabSize   the tokenizer's vocabulary size
     * @param wrapping    the special tokens every text is wrapped in
     * @param specialIds  ids whose rows are zeroed and left out of the PCA
     * @param calibration token id sequences (specials included, as the tokenizer gives them) to fit the map back on
     */
    public static StaticTable distill(Map<String, String> info, int vocabSize, TextTokenizer.Wrapping wrapping, int[] specialIds,
                                      Encoder encoder, Settings settings, List<int[]> calibration, Progress progress) {
        long started = System.nanoTime();
        if (settings.counts() != null && settings.counts().length != vocabSize) {
            throw new IllegalArgumentException("token counts cover " + settings.counts().length + " ids; the vocabulary has " + vocabSize);
        }
        boolean[] special = new boolean[vocabSize];
        for (int id : specialIds) {
            if (id >= 0 && id < vocabSize) {
                special[id] = true;
            }
        }
        float[] rows = null;
        int width = -1;
        for (int from = 0; from < vocabSize; from += settings.batchSize()) {
            int to = Math.min(vocabSize, from + settings.batchSize());
            int[][] batch = new int[to - from][];
            for (int id = from; id < to; id++) {
                batch[id - from] = wrapping.wrap(id);
            }
            float[][] out = encoder.pooled(batch);
            if (rows == null) {
                width = out[0].length;
                if (settings.dim() > width) {
                    throw new IllegalArgumentException("--dim " + settings.dim() + " is wider than the teacher's " + width + " dimensions");
                }
                rows = new float[Math.multiplyExact(vocabSize, width)];
            }
            for (int i = 0; i < out.length; i++) {
                System.arraycopy(out[i], 0, rows, (from + i) * width, width);
            }
            progress.update("teacher", to, vocabSize);
        }
        long teacherNanos = System.nanoTime() - started;
        boolean[] use = new boolean[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            use[i] = !special[i];
        }
        Pca pca = Pca.fit(rows, vocabSize, width, settings.dim(), use);
        progress.update("pca", 1, 1);
        float[] weights = settings.counts() == null ? SifWeights.fromRank(vocabSize, settings.a())
                : SifWeights.fromCounts(settings.counts(), settings.a());
        int d = settings.dim();
        float[] table = new float[Math.multiplyExact(vocabSize, d)];
        float[] projected = new float[d];
        for (int id = 0; id < vocabSize; id++) {
            if (special[id]) {
                continue;
            }
            pca.project(rows, id * width, projected);
            float w = weights[id];
            for (int k = 0; k < d; k++) {
                table[id * d + k] = w * projected[k];
            }
        }
        long pcaNanos = System.nanoTime() - started - teacherNanos;
        // Calibration texts are full-length: small batches keep the attention matrices small.
        Calibration fit = calibrate(table, d, pca, calibration, encoder, Math.min(32, settings.batchSize()));
        progress.update("calibration", 1, 1);
        Map<String, String> full = new LinkedHashMap<>(info);
        full.put("weighting", settings.weighting());
        full.put("calibration_texts", String.valueOf(calibration.size()));
        full.put("calibration_cosine", String.format(java.util.Locale.ROOT, "%.4f", fit.cosine));
        full.put("teacher_seconds", String.format(java.util.Locale.ROOT, "%.1f", teacherNanos / 1e9));
        full.put("pca_seconds", String.format(java.util.Locale.ROOT, "%.1f", pcaNanos / 1e9));
        full.put("total_seconds", String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - started) / 1e9));
        return new StaticTable(full, vocabSize, d, pca.mean(), pca.basis(), table, specialIds, fit.meanWeight, fit.norm,
                pca.explained());
    }

    record Calibration(float meanWeight, float norm, double cosine) {
    }

    /**
     * Fits the weight of the mean in {@code basis^T z + w * mean} so that it points where the
     * teacher's pooled output points (mean cosine over the calibration texts), and measures that
     * vector's typical length. A one-parameter fit, so a few hundred texts are plenty.
     */
    static Calibration calibrate(float[] table, int d, Pca pca, List<int[]> texts, Encoder encoder, int batchSize) {
        if (texts.isEmpty()) {
            return new Calibration(1f, 1f, Double.NaN);
        }
        int m = pca.width();
        float[] mean = pca.mean();
        int n = texts.size();
        double[] ue = new double[n];
        double[] me = new double[n];
        double[] uu = new double[n];
        double[] um = new double[n];
        double[] ee = new double[n];
        double mm = 0;
        for (float v : mean) {
            mm += (double) v * v;
        }
        for (int from = 0; from < n; from += batchSize) {
            int to = Math.min(n, from + batchSize);
            float[][] teacher = encoder.pooled(texts.subList(from, to).toArray(new int[0][]));
            for (int i = from; i < to; i++) {
                float[] e = teacher[i - from];
                float[] z = new float[d];
                int[] ids = texts.get(i);
                for (int id : ids) {
                    for (int k = 0; k < d; k++) {
                        z[k] += table[id * d + k];
                    }
                }
                for (int k = 0; k < d; k++) {
                    z[k] /= Math.max(ids.length, 1);
                }
                float[] u = new float[m];
                float[] basis = pca.basis();
                for (int k = 0; k < d; k++) {
                    for (int j = 0; j < m; j++) {
                        u[j] += z[k] * basis[k * m + j];
                    }
                }
                for (int j = 0; j < m; j++) {
                    ue[i] += (double) u[j] * e[j];
                    me[i] += (double) mean[j] * e[j];
                    uu[i] += (double) u[j] * u[j];
                    um[i] += (double) u[j] * mean[j];
                    ee[i] += (double) e[j] * e[j];
                }
            }
        }
        double typicalU = 0;
        for (int i = 0; i < n; i++) {
            typicalU += Math.sqrt(uu[i]) / n;
        }
        // w * |mean| from 0 to 50x the typical |u|: a grid, then a finer grid around the best.
        double top = 50 * typicalU / Math.max(Math.sqrt(mm), 1e-12);
        double best = 0;
        double bestCos = meanCosine(0, ue, me, uu, um, ee, mm);
        for (int pass = 0; pass < 3; pass++) {
            double lo = pass == 0 ? 0 : Math.max(0, best - top / Math.pow(100, pass));
            double hi = pass == 0 ? top : best + top / Math.pow(100, pass);
            for (int g = 0; g <= 200; g++) {
                double w = lo + (hi - lo) * g / 200;
                double c = meanCosine(w, ue, me, uu, um, ee, mm);
                if (c > bestCos) {
                    bestCos = c;
                    best = w;
                }
            }
        }
        double norm = 0;
        for (int i = 0; i < n; i++) {
            norm += Math.sqrt(Math.max(0, uu[i] + 2 * best * um[i] + best * best * mm)) / n;
        }
        return new Calibration((float) best, (float) Math.max(norm, 1e-12), bestCos);
    }

    private static double meanCosine(double w, double[] ue, double[] me, double[] uu, double[] um, double[] ee, double mm) {
        double s = 0;
        for (int i = 0; i < ue.length; i++) {
            double dot = ue[i] + w * me[i];
            double len = Math.sqrt(Math.max(0, uu[i] + 2 * w * um[i] + w * w * mm) * ee[i]);
            s += len == 0 ? 0 : dot / len;
        }
        return s / ue.length;
    }

    /**
     * Calibration texts when no corpus is given: sequences of the vocabulary's whole words (tokens of
     * two or more lowercase letters), drawn by Zipf's law over their vocabulary order, 6 to 30 words
     * long, wrapped in the special tokens.
     */
    public static List<int[]> syntheticTexts(String[] vocabulary, TextTokenizer.Wrapping wrapping, int n, long seed) {
        List<Integer> words = new ArrayList<>();
        for (int id = 0; id < vocabulary.length; id++) {
            if (vocabulary[id] != null && vocabulary[id].matches("[a-z]{2,}")) {
                words.add(id);
            }
        }
        if (words.isEmpty()) {
            return List.of();
        }
        double[] cumulative = new double[words.size()];
        double total = 0;
        for (int r = 0; r < cumulative.length; r++) {
            total += 1.0 / (r + 1);
            cumulative[r] = total;
        }
        Rng rng = new Rng(seed);
        List<int[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int len = 6 + (int) Math.floorMod(rng.nextLong(), 25L);
            int[] ids = new int[len];
            for (int w = 0; w < len; w++) {
                int r = Arrays.binarySearch(cumulative, rng.nextDouble() * total);
                r = r >= 0 ? r : -r - 1;
                ids[w] = words.get(Math.min(r, words.size() - 1));
            }
            out.add(wrapping.wrap(ids));
        }
        return out;
    }

    private StaticDistiller() {
    }
}
