package io.streamdistill.monitor;

import io.streamdistill.records.SoftTarget;
import io.streamdistill.student.loss.DistillationLoss;
import java.util.List;

/**
 * What one window of soft targets looked like: how many, the teacher's latency as a histogram
 * (quarter-octave buckets of microseconds, so p50/p99 are within ~19%), truncations, and the
 * teacher's predictions: class counts (classification) or the sum of unit vectors (embeddings),
 * from which drift is measured against the reference. Public fields: stored and served as JSON.
 */
public final class TrafficStats {
    static final int BUCKETS = 160;

    public long records;
    public long truncated;
    public long tokens;
    public long[] latency = new long[BUCKETS];
    public long[] classCounts;
    public double[] embeddingSum;

    public TrafficStats add(SoftTarget st) {
        records++;
        tokens += st.getInputTokens();
        if (st.getTruncated()) {
            truncated++;
        }
        latency[bucket(st.getTeacherLatencyMicros())]++;
        List<Float> logits = st.getClassLogits();
        if (logits != null && !logits.isEmpty()) {
            if (classCounts == null || classCounts.length < logits.size()) {
                long[] grown = new long[logits.size()];
                if (classCounts != null) {
                    System.arraycopy(classCounts, 0, grown, 0, classCounts.length);
                }
                classCounts = grown;
            }
            classCounts[DistillationLoss.argmax(toArray(logits))]++;
        } else if (st.getEmbedding() != null && !st.getEmbedding().isEmpty()) {
            float[] v = toArray(st.getEmbedding());
            double norm = 0;
            for (float x : v) {
                norm += x * x;
            }
            norm = Math.sqrt(norm) + 1e-12;
            if (embeddingSum == null || embeddingSum.length != v.length) {
                embeddingSum = new double[v.length];
            }
            for (int i = 0; i < v.length; i++) {
                embeddingSum[i] += v[i] / norm;
            }
        }
        return this;
    }

    static int bucket(long micros) {
        int b = (int) Math.floor(4 * Math.log(Math.max(1, micros)) / Math.log(2));
        return Math.min(BUCKETS - 1, Math.max(0, b));
    }

    /** The latency (seconds) below which a fraction {@code q} of the window's records fell: the middle of its bucket. */
    public double latencyQuantileSeconds(double q) {
        if (records == 0) {
            return Double.NaN;
        }
        long rank = (long) Math.ceil(q * records);
        long seen = 0;
        for (int b = 0; b < latency.length; b++) {
            seen += latency[b];
            if (seen >= rank) {
                return Math.pow(2, (b + 0.5) / 4) / 1e6;
            }
        }
        return Math.pow(2, (BUCKETS - 0.5) / 4) / 1e6;
    }

    /**
     * How far this window's predictions moved from the reference's, in [0, 1]: the Jensen-Shannon
     * divergence (base 2) of the class distributions, or 1 - cosine of the mean unit embeddings.
     */
    public double driftFrom(TrafficStats reference) {
        if (reference == null || reference.records == 0 || records == 0) {
            return Double.NaN;
        }
        if (classCounts != null && reference.classCounts != null) {
            int k = Math.max(classCounts.length, reference.classCounts.length);
            double js = 0;
            for (int i = 0; i < k; i++) {
                double p = i < classCounts.length ? classCounts[i] / (double) records : 0;
                double r = i < reference.classCounts.length ? reference.classCounts[i] / (double) reference.records : 0;
                double m = (p + r) / 2;
                js += (p > 0 ? 0.5 * p * log2(p / m) : 0) + (r > 0 ? 0.5 * r * log2(r / m) : 0);
            }
            return Math.max(0, Math.min(1, js));
        }
        if (embeddingSum != null && reference.embeddingSum != null && embeddingSum.length == reference.embeddingSum.length) {
            double dot = 0;
            double a = 0;
            double b = 0;
            for (int i = 0; i < embeddingSum.length; i++) {
                dot += embeddingSum[i] * reference.embeddingSum[i];
                a += embeddingSum[i] * embeddingSum[i];
                b += reference.embeddingSum[i] * reference.embeddingSum[i];
            }
            return Math.max(0, Math.min(1, 1 - dot / (Math.sqrt(a * b) + 1e-12)));
        }
        return Double.NaN;
    }

    /** Class shares of this window (empty for embeddings). */
    public double[] classShares() {
        if (classCounts == null || records == 0) {
            return new double[0];
        }
        double[] s = new double[classCounts.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = classCounts[i] / (double) records;
        }
        return s;
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    private static float[] toArray(List<Float> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }
}
