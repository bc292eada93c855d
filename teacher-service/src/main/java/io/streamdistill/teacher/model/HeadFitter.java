package io.streamdistill.teacher.model;

import io.streamdistill.student.loss.DistillationLoss;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fits a classification head from labelled rows: multinomial logistic regression on the teacher's
 * pooled embeddings, L2 strength chosen by k-fold cross-validation, then a temperature fitted on the
 * held-out folds' logits so its probabilities are calibrated. The prototype head (the demo's: the
 * normalised mean of up to 16 training rows per class, logits = scale x cosine) is scored on the same
 * folds, so the two can be compared. Folds come from a hash of each row's key (its text): a row is in
 * the same fold whatever the file's order, and duplicates never straddle folds.
 */
public final class HeadFitter {
    /** The L2 strengths tried (on the mean cross-entropy). */
    static final double[] LAMBDAS = {1e-4, 1e-3, 1e-2, 1e-1};
    static final int ITERATIONS = 200;
    static final int ECE_BINS = 15;
    static final int PROTOTYPE_EXAMPLES = 16;

    /** Precision, recall and F1 of one class. */
    public record ClassScores(String name, double precision, double recall, double f1, int support) {
    }

    /** Cross-validated figures of one head. */
    public record Scores(double accuracy, double macroF1, double temperature, double eceBefore, double eceAfter,
                         List<ClassScores> perClass) {
    }

    /**
     * @param lambda the L2 strength chosen
     * @param head   the fitted head's cross-validated figures (its temperature is folded into the written weights)
     * @param prototypes the prototype head's on the same folds
     */
    public record Report(int rows, int folds, double lambda, Map<String, Double> cvAccuracyByLambda, Scores head,
                         Scores prototypes) {
    }

    /** The head in the teacher's linear-head form, calibrated (weights and bias divided by the temperature). */
    public record Fitted(List<String> classes, float[][] weights, float[] bias, Report report) {
        /** The sha256 of the head itself (classes, weights, bias as written), independent of the report. */
        public String sha256() {
            StringBuilder s = new StringBuilder(String.join("\u001f", classes));
            for (int c = 0; c < weights.length; c++) {
                s.append('\u001e').append(bias[c]);
                for (float v : weights[c]) {
                    s.append(',').append(v);
                }
            }
            return io.streamdistill.student.Hashing.sha256(s.toString().getBytes(StandardCharsets.UTF_8));
        }

        /**
         * Writes the head in the teacher service's linear-head format ({@code classes}, {@code weights},
         * {@code bias}; a descriptor's {@code "head": {"type": "linear", "file": ...}} loads it), plus its
         * sha256 and the fit report at the top level.
         */
        public void write(java.nio.file.Path file) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("classes", classes);
            json.put("weights", weights);
            json.put("bias", bias);
            json.put("sha256", sha256());
            json.put("cv_accuracy", report.head().accuracy());
            json.put("cv_macro_f1", report.head().macroF1());
            json.put("prototype_cv_accuracy", report.prototypes().accuracy());
            json.put("prototype_cv_macro_f1", report.prototypes().macroF1());
            json.put("ece_before", report.head().eceBefore());
            json.put("ece_after", report.head().eceAfter());
            json.put("temperature", report.head().temperature());
            json.put("prototype_temperature", report.prototypes().temperature());
            json.put("prototype_ece_before", report.prototypes().eceBefore());
            json.put("prototype_ece_after", report.prototypes().eceAfter());
            json.put("l2", report.lambda());
            json.put("cv_accuracy_by_l2", report.cvAccuracyByLambda());
            json.put("rows", report.rows());
            json.put("folds", report.folds());
            json.put("per_class", report.head().perClass());
            json.put("prototype_per_class", report.prototypes().perClass());
            try {
                if (file.toAbsolutePath().getParent() != null) {
                    java.nio.file.Files.createDirectories(file.toAbsolutePath().getParent());
                }
                new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), json);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot write the head " + file, e);
            }
        }
    }

    /**
     * @param x       unit-length embeddings, one per row
     * @param y       class index per row
     * @param keys    what a row's fold is hashed from (its text)
     * @param scale   the prototype head's logit scale
     */
    public static Fitted fit(float[][] x, int[] y, List<String> classes, List<String> keys, int folds, float scale) {
        int n = x.length;
        int k = classes.size();
        if (folds < 2) {
            throw new IllegalArgumentException("--folds must be >= 2, got " + folds);
        }
        int[] fold = new int[n];
        for (int i = 0; i < n; i++) {
            fold[i] = fold(keys.get(i), folds);
        }
        Map<String, Double> byLambda = new LinkedHashMap<>();
        double bestLambda = LAMBDAS[0];
        double bestAccuracy = -1;
        float[][] bestLogits = null;
        for (double lambda : LAMBDAS) {
            float[][] logits = new float[n][];
            // Folds are independent fits: in parallel (each writes only its own rows' logits).
            java.util.stream.IntStream.range(0, folds).parallel().forEach(f -> {
                Model m = train(x, y, k, inFold(fold, f, false), lambda);
                for (int i : inFold(fold, f, true)) {
                    logits[i] = m.logits(x[i]);
                }
            });
            double acc = accuracy(logits, y);
            byLambda.put(String.valueOf(lambda), acc);
            if (acc > bestAccuracy) {
                bestAccuracy = acc;
                bestLambda = lambda;
                bestLogits = logits;
            }
        }
        Scores head = scores(bestLogits, y, classes);
        float[][] protoLogits = new float[n][];
        for (int f = 0; f < folds; f++) {
            float[][] prototypes = prototypes(x, y, k, inFold(fold, f, false));
            for (int i : inFold(fold, f, true)) {
                protoLogits[i] = new float[k];
                for (int c = 0; c < k; c++) {
                    protoLogits[i][c] = (float) (scale * dot(x[i], prototypes[c]));
                }
            }
        }
        Scores proto = scores(protoLogits, y, classes);
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        Model m = train(x, y, k, all, bestLambda);
        float t = (float) head.temperature();
        float[][] w = new float[k][];
        float[] b = new float[k];
        for (int c = 0; c < k; c++) {
            w[c] = new float[m.w[c].length];
            for (int j = 0; j < w[c].length; j++) {
                w[c][j] = (float) (m.w[c][j] / t);
            }
            b[c] = (float) (m.b[c] / t);
        }
        return new Fitted(List.copyOf(classes), w, b, new Report(n, folds, bestLambda, byLambda, head, proto));
    }

    /** The fold of a row: FNV-1a of its key, so the assignment depends on the row alone. */
    static int fold(String key, int folds) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return (int) Math.floorMod(h, (long) folds);
    }

    private static int[] inFold(int[] fold, int f, boolean in) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < fold.length; i++) {
            if ((fold[i] == f) == in) {
                out.add(i);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Softmax regression weights. */
    record Model(double[][] w, double[] b) {
        float[] logits(float[] x) {
            float[] z = new float[w.length];
            for (int c = 0; c < w.length; c++) {
                double s = b[c];
                for (int j = 0; j < x.length; j++) {
                    s += w[c][j] * x[j];
                }
                z[c] = (float) s;
            }
            return z;
        }
    }

    /**
     * Mean cross-entropy + lambda/2 |W|^2 by Nesterov's accelerated gradient with step 1/L, L the
     * loss's smoothness bound (max |x|^2 / 2 + lambda): convex, so a fixed number of steps converges.
     */
    static Model train(float[][] x, int[] y, int k, int[] rows, double lambda) {
        int d = x[0].length;
        double maxSq = 0;
        for (int i : rows) {
            maxSq = Math.max(maxSq, dot(x[i], x[i]) + 1); // +1: the bias input
        }
        double step = 1 / (maxSq / 2 + lambda);
        double[][] w = new double[k][d];
        double[] b = new double[k];
        double[][] wPrev = new double[k][d];
        double[] bPrev = new double[k];
        double[][] gw = new double[k][d];
        double[] gb = new double[k];
        double[][] vw = new double[k][d];
        double[] vb = new double[k];
        double[] p = new double[k];
        for (int it = 1; it <= ITERATIONS; it++) {
            double mom = (it - 1.0) / (it + 2.0);
            for (int c = 0; c < k; c++) {
                for (int j = 0; j < d; j++) {
                    vw[c][j] = w[c][j] + mom * (w[c][j] - wPrev[c][j]);
                    gw[c][j] = lambda * vw[c][j];
                }
                vb[c] = b[c] + mom * (b[c] - bPrev[c]);
                gb[c] = 0;
            }
            for (int i : rows) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) {
                    double s = vb[c];
                    for (int j = 0; j < d; j++) {
                        s += vw[c][j] * x[i][j];
                    }
                    p[c] = s;
                    max = Math.max(max, s);
                }
                double sum = 0;
                for (int c = 0; c < k; c++) {
                    p[c] = Math.exp(p[c] - max);
                    sum += p[c];
                }
                for (int c = 0; c < k; c++) {
                    double g = (p[c] / sum - (y[i] == c ? 1 : 0)) / rows.length;
                    gb[c] += g;
                    for (int j = 0; j < d; j++) {
                        gw[c][j] += g * x[i][j];
                    }
                }
            }
            for (int c = 0; c < k; c++) {
                System.arraycopy(w[c], 0, wPrev[c], 0, d);
                for (int j = 0; j < d; j++) {
                    w[c][j] = vw[c][j] - step * gw[c][j];
                }
            }
            System.arraycopy(b, 0, bPrev, 0, k);
            for (int c = 0; c < k; c++) {
                b[c] = vb[c] - step * gb[c];
            }
        }
        return new Model(w, b);
    }

    /** Up to 16 training rows per class, in row order: the demo's prototype head, normalised. */
    static float[][] prototypes(float[][] x, int[] y, int k, int[] rows) {
        float[][] proto = new float[k][x[0].length];
        int[] count = new int[k];
        for (int i : rows) {
            if (count[y[i]] < PROTOTYPE_EXAMPLES) {
                count[y[i]]++;
                double len = Math.sqrt(dot(x[i], x[i]));
                for (int j = 0; j < x[i].length; j++) {
                    proto[y[i]][j] += (float) (x[i][j] / Math.max(len, 1e-12));
                }
            }
        }
        for (float[] v : proto) {
            double len = Math.sqrt(dot(v, v));
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) (v[j] / Math.max(len, 1e-12));
            }
        }
        return proto;
    }

    static Scores scores(float[][] logits, int[] y, List<String> classes) {
        int k = classes.size();
        int[] tp = new int[k];
        int[] predicted = new int[k];
        int[] support = new int[k];
        int correct = 0;
        for (int i = 0; i < y.length; i++) {
            int s = DistillationLoss.argmax(logits[i]);
            predicted[s]++;
            support[y[i]]++;
            if (s == y[i]) {
                tp[s]++;
                correct++;
            }
        }
        List<ClassScores> per = new ArrayList<>();
        double macro = 0;
        for (int c = 0; c < k; c++) {
            double precision = predicted[c] == 0 ? 0 : tp[c] / (double) predicted[c];
            double recall = support[c] == 0 ? 0 : tp[c] / (double) support[c];
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            macro += f1 / k;
            per.add(new ClassScores(classes.get(c), precision, recall, f1, support[c]));
        }
        double t = temperature(logits, y);
        return new Scores(correct / (double) y.length, macro, t, ece(logits, y, 1), ece(logits, y, t), per);
    }

    /** The temperature minimising the held-out negative log-likelihood (golden-section search on log T). */
    static double temperature(float[][] logits, int[] y) {
        double lo = Math.log(0.02);
        double hi = Math.log(50);
        double g = (Math.sqrt(5) - 1) / 2;
        double a = hi - g * (hi - lo);
        double b = lo + g * (hi - lo);
        double fa = nll(logits, y, Math.exp(a));
        double fb = nll(logits, y, Math.exp(b));
        for (int i = 0; i < 80; i++) {
            if (fa < fb) {
                hi = b;
                b = a;
                fb = fa;
                a = hi - g * (hi - lo);
                fa = nll(logits, y, Math.exp(a));
            } else {
                lo = a;
                a = b;
                fa = fb;
                b = lo + g * (hi - lo);
                fb = nll(logits, y, Math.exp(b));
            }
        }
        return Math.exp((lo + hi) / 2);
    }

    static double nll(float[][] logits, int[] y, double t) {
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            sum -= logits[i][y[i]] / t - logSumExp(logits[i], t);
        }
        return sum / y.length;
    }

    /** log sum exp(z / t) in double precision: the temperature search needs more than the float training loss uses. */
    private static double logSumExp(float[] z, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v / t);
        }
        double sum = 0;
        for (float v : z) {
            sum += Math.exp(v / t - max);
        }
        return max + Math.log(sum);
    }

    /** Expected calibration error over 15 equal-width confidence bins at temperature t. */
    static double ece(float[][] logits, int[] y, double t) {
        double[] conf = new double[ECE_BINS];
        double[] acc = new double[ECE_BINS];
        int[] count = new int[ECE_BINS];
        for (int i = 0; i < y.length; i++) {
            // The top class's probability: exp(max / t - logSumExp).
            double top = Math.exp(logits[i][DistillationLoss.argmax(logits[i])] / t - logSumExp(logits[i], t));
            int bin = Math.min(ECE_BINS - 1, (int) (top * ECE_BINS));
            conf[bin] += top;
            acc[bin] += DistillationLoss.argmax(logits[i]) == y[i] ? 1 : 0;
            count[bin]++;
        }
        double e = 0;
        for (int b = 0; b < ECE_BINS; b++) {
            if (count[b] > 0) {
                e += Math.abs(acc[b] - conf[b]) / y.length;
            }
        }
        return e;
    }

    static double accuracy(float[][] logits, int[] y) {
        int correct = 0;
        for (int i = 0; i < y.length; i++) {
            correct += DistillationLoss.argmax(logits[i]) == y[i] ? 1 : 0;
        }
        return correct / (double) y.length;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    private HeadFitter() {
    }
}
