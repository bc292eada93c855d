package io.streamdistill.trainer;

import java.util.Arrays;
import java.util.Map;

/**
 * How long the records trained since the last published version have waited: their arrival times,
 * turned into the age percentiles a version reports when it is published.
 */
final class Freshness {
    private long[] arrivals = new long[1024];
    private int count;

    void arrived(long arrivalMillis) {
        if (count == arrivals.length) {
            arrivals = Arrays.copyOf(arrivals, count * 2);
        }
        arrivals[count++] = arrivalMillis;
    }

    /**
     * Puts {@code freshness_max_ms}, {@code freshness_p50_ms}, {@code freshness_p95_ms} and
     * {@code new_records} into {@code metrics} for a version published at {@code now}; nothing when no
     * record arrived since the last one.
     */
    void report(long now, Map<String, Double> metrics) {
        if (count == 0) {
            return;
        }
        long[] ages = new long[count];
        for (int i = 0; i < count; i++) {
            ages[i] = now - arrivals[i];
        }
        Arrays.sort(ages);
        metrics.put("freshness_max_ms", (double) ages[ages.length - 1]);
        metrics.put("freshness_p50_ms", (double) ages[(int) (0.50 * (ages.length - 1))]);
        metrics.put("freshness_p95_ms", (double) ages[(int) (0.95 * (ages.length - 1))]);
        metrics.put("new_records", (double) ages.length);
    }

    /** A version was published: what it trained on is no longer waiting. */
    void published() {
        count = 0;
    }
}
