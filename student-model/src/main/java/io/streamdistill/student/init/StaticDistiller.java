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
    /** Names this recipe in the table and in cache keys: a change to the recipe never reuses an older table. */
    public static final String RECIPE = "m2v-pca-sif-ridge-1";

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
        full.put("calibration", settings.counts() == null ? "synthetic" : "corpus");
        full.put("calibration_texts", String.valueOf(calibration.size()));
        full.put("calibration_cosine_basis", String.format(java.util.Locale.ROOT, "%.4f", fit.basisCosine()));
        full.put("calibration_cosine", String.format(java.util.Locale.ROOT, "%.4f", fit.mapCosine()));
        full.put("calibration_ridge", String.valueOf(fit.ridge()));
        full.put("recipe", RECIPE);
        full.put("teacher_seconds", String.format(java.util.Locale.ROOT, "%.1f", teacherNanos / 1e9));
        full.put("pca_seconds", String.format(java.util.Locale.ROOT, "%.1f", pcaNanos / 1e9));
        full.put("total_seconds", String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - started) / 1e9));
        full.put("basis_norm", Float.toString(fit.basisNorm()));
        return new StaticTable(full, vocabSize, d, pca.mean(), pca.basis(), table, specialIds, fit.meanWeight(), fit.map(),
                fit.offset(), fit.norm(), pca.explained());
    }

    /**
     * The same table with its map back fitted again on other calibration texts (a corpus's, say):
     * the rows stay, only the maps and their figures change. Costs one teacher pass over the texts.
     *
     * @param source what the texts were, for the table's info (e.g. "corpus:<sha256>")
     */
    public static StaticTable recalibrate(StaticTable table, Encoder encoder, List<int[]> texts, String source) {
        long started = System.nanoTime();
        Pca pca = new Pca(table.mean(), table.basis(), table.dim(), new double[table.dim()], table.explainedVariance());
        Calibration fit = calibrate(table.table(), table.dim(), pca, texts, encoder, 32);
        Map<String, String> info = new LinkedHashMap<>(table.info());
        info.put("calibration", source);
        info.put("calibration_texts", String.valueOf(texts.size()));
        info.put("calibration_cosine_basis", String.format(java.util.Locale.ROOT, "%.4f", fit.basisCosine()));
        info.put("calibration_cosine", String.format(java.util.Locale.ROOT, "%.4f", fit.mapCosine()));
        info.put("calibration_ridge", String.valueOf(fit.ridge()));
        info.put("basis_norm", Float.toString(fit.basisNorm()));
        info.put("calibration_seconds", String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - started) / 1e9));
        return new StaticTable(info, table.vocabSize(), table.dim(), table.mean(), table.basis(), table.table(), table.specialIds(),
                fit.meanWeight(), fit.map(), fit.offset(), fit.norm(), table.explainedVariance());
    }

    /**
     * The map back to the teacher's space: {@code meanWeight} for {@code basis^T z + w * mean}, and a
     * ridge-fitted linear map {@code map z + offset} (m x D), each with the mean cosine it reached
     * on held-out calibration texts, and the typical length of the map's output.
     */
    record Calibration(float meanWeight, double basisCosine, float basisNorm, float[] map, float[] offset, float norm,
                       double mapCosine, double ridge) {
    }

    /**
     * Fits the map back on the calibration texts. The one-parameter basis map gets a grid search;
     * the linear map is ridge regression onto the unit teacher embeddings, its strength chosen on a
     * held-out fifth of the texts (mean cosine), then refitted on all of them.
     */
    static Calibration calibrate(float[] table, int d, Pca pca, List<int[]> texts, Encoder encoder, int batchSize) {
        int m = pca.width();
        int n = texts.size();
        if (n < 10) {
            float[] map = new float[m * d];
            for (int k = 0; k < d; k++) {
                for (int j = 0; j < m; j++) {
                    map[j * d + k] = pca.basis()[k * m + j];
                }
            }
            float[] offset = pca.mean().clone();
            return new Calibration(1f, Double.NaN, 1f, map, offset, 1f, Double.NaN, 0);
        }
        float[] mean = pca.mean();
        float[] basis = pca.basis();
        double[][] z = new double[n][d];
        double[][] e = new double[n][m];
        for (int from = 0; from < n; from += batchSize) {
            int to = Math.min(n, from + batchSize);
            float[][] teacher = encoder.pooled(texts.subList(from, to).toArray(new int[0][]));
            for (int i = from; i < to; i++) {
                int[] ids = texts.get(i);
                for (int id : ids) {
                    for (int k = 0; k < d; k++) {
                        z[i][k] += table[id * d + k];
                    }
                }
                for (int k = 0; k < d; k++) {
                    z[i][k] /= Math.max(ids.length, 1);
                }
                float[] t = teacher[i - from];
                double len = 0;
                for (float v : t) {
                    len += (double) v * v;
                }
                len = Math.sqrt(Math.max(len, 1e-24));
                for (int j = 0; j < m; j++) {
                    e[i][j] = t[j] / len;
                }
            }
        }
        // The basis map: cos(basis^T z + w mean, e) as a function of w alone.
        double[] ue = new double[n];
        double[] me = new double[n];
        double[] uu = new double[n];
        double[] um = new double[n];
        double mm = 0;
        for (float v : mean) {
            mm += (double) v * v;
        }
        for (int i = 0; i < n; i++) {
            double[] u = new double[m];
            for (int k = 0; k < d; k++) {
                for (int j = 0; j < m; j++) {
                    u[j] += z[i][k] * basis[k * m + j];
                }
            }
            for (int j = 0; j < m; j++) {
                ue[i] += u[j] * e[i][j];
                me[i] += mean[j] * e[i][j];
                uu[i] += u[j] * u[j];
                um[i] += u[j] * mean[j];
            }
        }
        double typicalU = 0;
        for (int i = 0; i < n; i++) {
            typicalU += Math.sqrt(uu[i]) / n;
        }
        double top = 50 * typicalU / Math.max(Math.sqrt(mm), 1e-12);
        double best = 0;
        double bestCos = meanCosine(0, ue, me, uu, um, mm);
        for (int pass = 0; pass < 3; pass++) {
            double lo = pass == 0 ? 0 : Math.max(0, best - top / Math.pow(100, pass));
            double hi = pass == 0 ? top : best + top / Math.pow(100, pass);
            for (int g = 0; g <= 200; g++) {
                double w = lo + (hi - lo) * g / 200;
                double c = meanCosine(w, ue, me, uu, um, mm);
                if (c > bestCos) {
                    bestCos = c;
                    best = w;
                }
            }
        }
        // The linear map, ridge strength by held-out cosine.
        int train = n - Math.max(2, n / 5);
        double trace = 0;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) {
                trace += z[i][k] * z[i][k];
            }
        }
        double bestRidge = 0;
        double bestHeld = Double.NEGATIVE_INFINITY;
        for (double alpha : new double[] {1e-4, 1e-3, 1e-2, 1e-1, 1}) {
            double ridge = alpha * trace / n / d * train;
            Ridge fit = Ridge.fit(z, e, 0, train, ridge);
            double held = 0;
            for (int i = train; i < n; i++) {
                held += fit.cosine(z[i], e[i]) / (n - train);
            }
            if (held > bestHeld) {
                bestHeld = held;
                bestRidge = alpha;
            }
        }
        Ridge fit = Ridge.fit(z, e, 0, n, bestRidge * trace / n / d * n);
        double norm = 0;
        double basisNorm = 0;
        for (int i = 0; i < n; i++) {
            norm += fit.length(z[i]) / n;
            basisNorm += Math.sqrt(Math.max(0, uu[i] + 2 * best * um[i] + best * best * mm)) / n;
        }
        return new Calibration((float) best, bestCos, (float) Math.max(basisNorm, 1e-12), fit.map(), fit.offset(),
                (float) Math.max(norm, 1e-12), bestHeld, bestRidge);
    }

    /** {@code y = map z + offset}, fitted by ridge regression (the offset is not penalised). */
    record Ridge(float[] map, float[] offset, int d, int m) {
        static Ridge fit(double[][] z, double[][] e, int from, int to, double lambda) {
            int d = z[0].length;
            int m = e[0].length;
            int n = to - from;
            double[] zm = new double[d];
            double[] em = new double[m];
            for (int i = from; i < to; i++) {
                for (int k = 0; k < d; k++) {
                    zm[k] += z[i][k] / n;
                }
                for (int j = 0; j < m; j++) {
                    em[j] += e[i][j] / n;
                }
            }
            double[] g = new double[d * d];
            double[] h = new double[d * m];
            double[] zc = new double[d];
            for (int i = from; i < to; i++) {
                for (int k = 0; k < d; k++) {
                    zc[k] = z[i][k] - zm[k];
                }
                for (int a = 0; a < d; a++) {
                    for (int b = a; b < d; b++) {
                        g[a * d + b] += zc[a] * zc[b];
                    }
                    for (int j = 0; j < m; j++) {
                        h[a * m + j] += zc[a] * (e[i][j] - em[j]);
                    }
                }
            }
            for (int a = 0; a < d; a++) {
                for (int b = 0; b < a; b++) {
                    g[a * d + b] = g[b * d + a];
                }
                g[a * d + a] += lambda;
            }
            double[] x = Linear.solveSymmetric(g, h, d, m); // d x m
            float[] map = new float[m * d];
            float[] offset = new float[m];
            for (int j = 0; j < m; j++) {
                double c = em[j];
                for (int k = 0; k < d; k++) {
                    map[j * d + k] = (float) x[k * m + j];
                    c -= x[k * m + j] * zm[k];
                }
                offset[j] = (float) c;
            }
            return new Ridge(map, offset, d, m);
        }

        double[] apply(double[] z) {
            double[] y = new double[m];
            for (int j = 0; j < m; j++) {
                double s = offset[j];
                for (int k = 0; k < d; k++) {
                    s += map[j * d + k] * z[k];
                }
                y[j] = s;
            }
            return y;
        }

        double cosine(double[] z, double[] e) {
            double[] y = apply(z);
            double dot = 0;
            double yy = 0;
            double ee = 0;
            for (int j = 0; j < m; j++) {
                dot += y[j] * e[j];
                yy += y[j] * y[j];
                ee += e[j] * e[j];
            }
            return dot / Math.sqrt(Math.max(yy * ee, 1e-300));
        }

        double length(double[] z) {
            double[] y = apply(z);
            double s = 0;
            for (double v : y) {
                s += v * v;
            }
            return Math.sqrt(s);
        }
    }

    private static double meanCosine(double w, double[] ue, double[] me, double[] uu, double[] um, double mm) {
        double s = 0;
        for (int i = 0; i < ue.length; i++) {
            double dot = ue[i] + w * me[i];
            double len = Math.sqrt(Math.max(0, uu[i] + 2 * w * um[i] + w * w * mm));
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
