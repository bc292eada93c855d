package io.streamdistill.teacher.service;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/** The teacher service's counters, gauges and histograms, written in the Prometheus text format. */
public final class Metrics {
    private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128};
    private static final double[] SECONDS_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
    static final String RETRY_SPLIT = "split";
    static final String RETRY_RECORD = "record";
    static final String RETRY_TRANSACTION = "transaction";

    final LongAdder recordsIn = new LongAdder();
    final LongAdder softTargets = new LongAdder();
    final LongAdder truncated = new LongAdder();
    final Map<String, LongAdder> deadLetters = new ConcurrentHashMap<>();
    final LongAdder commits = new LongAdder();
    final LongAdder aborts = new LongAdder();
    final LongAdder authorizationRefusals = new LongAdder();
    /** Teacher runs retried after a failure, by kind (see {@link BatchInference}); all kinds always written. */
    final Map<String, LongAdder> inferenceRetries = new java.util.TreeMap<>(Map.of(
            RETRY_SPLIT, new LongAdder(), RETRY_RECORD, new LongAdder(), RETRY_TRANSACTION, new LongAdder()));
    final Map<String, LongAdder> sampled = new ConcurrentHashMap<>();
    final Map<String, LongAdder> skipped = new ConcurrentHashMap<>();
    volatile boolean samplingOn;
    volatile boolean drifting;
    volatile double estimatedAgreement = Double.NaN;
    volatile double uncertainShare = Double.NaN;
    final Histogram batchSize = new Histogram(BATCH_BUCKETS);
    final Histogram inferenceSeconds = new Histogram(SECONDS_BUCKETS);
    final AtomicLong consumerLag = new AtomicLong();
    private volatile double recordsPerSecond;
    private long rateWindowStart = System.nanoTime();
    private long rateWindowCount;

    void deadLetter(String reason) {
        deadLetters.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    /** Called by the loop after each transaction: an exponentially weighted records/s over ~10 s. */
    synchronized void recordProcessed(int n) {
        rateWindowCount += n;
        long now = System.nanoTime();
        double elapsed = (now - rateWindowStart) / 1e9;
        if (elapsed >= 1) {
            double rate = rateWindowCount / elapsed;
            recordsPerSecond = recordsPerSecond == 0 ? rate : 0.9 * recordsPerSecond + 0.1 * rate;
            rateWindowStart = now;
            rateWindowCount = 0;
        }
    }

    public long recordsIn() {
        return recordsIn.sum();
    }

    public long softTargets() {
        return softTargets.sum();
    }

    public long deadLetters() {
        return deadLetters.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** Input records per second, smoothed over about ten seconds. */
    public double recordsPerSecond() {
        return recordsPerSecond;
    }

    void authorizationRefused() {
        authorizationRefusals.increment();
    }

    /** Times the broker's ACLs refused this service (it stops on the first). */
    public long authorizationRefusals() {
        return authorizationRefusals.sum();
    }

    public long aborts() {
        return aborts.sum();
    }

    void inferenceRetry(String kind) {
        inferenceRetries.get(kind).increment();
    }

    /** Teacher runs retried, by kind: {@code split} (a failed batch halved), {@code record} (a text run alone again), {@code transaction} (a poll aborted). */
    public long inferenceRetries(String kind) {
        return inferenceRetries.get(kind).sum();
    }

    void sampled(String reason) {
        sampled.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    void skipped(String reason) {
        skipped.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    /** Records the teacher ran on under adaptive sampling, by reason. */
    public Map<String, Long> sampledByReason() {
        Map<String, Long> out = new java.util.TreeMap<>();
        sampled.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** Records adaptive sampling skipped (no soft target, offsets committed), by reason. */
    public Map<String, Long> skippedByReason() {
        Map<String, Long> out = new java.util.TreeMap<>();
        skipped.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    public long skipped() {
        return skipped.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** The Prometheus text exposition (version 0.0.4). */
    public String prometheus(boolean ready) {
        StringBuilder out = new StringBuilder();
        counter(out, "streamdistill_teacher_records_in_total", "Input records read from the text topic.", recordsIn.sum());
        counter(out, "streamdistill_teacher_soft_targets_total", "Soft targets published.", softTargets.sum());
        counter(out, "streamdistill_teacher_truncated_total", "Texts cut to the character or token limit.", truncated.sum());
        counter(out, "streamdistill_teacher_authorization_refusals_total", "Requests the broker's ACLs refused (the service stops).",
                authorizationRefusals.sum());
        out.append("# HELP streamdistill_teacher_dead_letters_total Dead letters published, by reason.\n")
                .append("# TYPE streamdistill_teacher_dead_letters_total counter\n");
        deadLetters.forEach((reason, n) -> out.append("streamdistill_teacher_dead_letters_total{reason=\"").append(reason)
                .append("\"} ").append(n.sum()).append('\n'));
        out.append("# HELP streamdistill_teacher_transactions_total Kafka transactions, by outcome.\n")
                .append("# TYPE streamdistill_teacher_transactions_total counter\n")
                .append("streamdistill_teacher_transactions_total{outcome=\"commit\"} ").append(commits.sum()).append('\n')
                .append("streamdistill_teacher_transactions_total{outcome=\"abort\"} ").append(aborts.sum()).append('\n');
        out.append("# HELP streamdistill_teacher_inference_retries_total Teacher runs retried after a failure: a failed batch split in"
                        + " halves (split), a text that failed alone run again (record), a poll aborted because a whole batch failed (transaction).\n")
                .append("# TYPE streamdistill_teacher_inference_retries_total counter\n");
        inferenceRetries.forEach((kind, n) -> out.append("streamdistill_teacher_inference_retries_total{kind=\"").append(kind)
                .append("\"} ").append(n.sum()).append('\n'));
        if (samplingOn) {
            out.append("# HELP streamdistill_teacher_sampled_total Records sent to the teacher by adaptive sampling, by reason.\n")
                    .append("# TYPE streamdistill_teacher_sampled_total counter\n");
            sampled.forEach((reason, n) -> out.append("streamdistill_teacher_sampled_total{reason=\"").append(reason)
                    .append("\"} ").append(n.sum()).append('\n'));
            out.append("# HELP streamdistill_teacher_skipped_total Records adaptive sampling kept from the teacher, by reason.\n")
                    .append("# TYPE streamdistill_teacher_skipped_total counter\n");
            skipped.forEach((reason, n) -> out.append("streamdistill_teacher_skipped_total{reason=\"").append(reason)
                    .append("\"} ").append(n.sum()).append('\n'));
            gauge(out, "streamdistill_teacher_sampling_drifting", "1 while the estimated agreement has dropped (everything sampled).",
                    drifting ? 1 : 0);
            if (!Double.isNaN(estimatedAgreement)) {
                gauge(out, "streamdistill_teacher_sampling_estimated_agreement",
                        "Student-teacher agreement estimated on the exploration share.", estimatedAgreement);
            }
            if (!Double.isNaN(uncertainShare)) {
                gauge(out, "streamdistill_teacher_sampling_uncertain_share",
                        "Share of the least sure records sent to the teacher now (rises while the student is often wrong).", uncertainShare);
            }
        }
        gauge(out, "streamdistill_teacher_records_per_second", "Input records processed per second (smoothed).", recordsPerSecond);
        gauge(out, "streamdistill_teacher_consumer_lag", "Largest lag of the input consumer over its partitions, in records.",
                consumerLag.get());
        gauge(out, "streamdistill_teacher_ready", "1 when the service is consuming.", ready ? 1 : 0);
        batchSize.write(out, "streamdistill_teacher_batch_size", "Texts per teacher batch.");
        inferenceSeconds.write(out, "streamdistill_teacher_inference_seconds", "Wall time of one teacher batch.");
        return out.toString();
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" counter\n").append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder out, String name, String help, double value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" gauge\n").append(name).append(' ').append(value).append('\n');
    }

    /** A cumulative-bucket histogram. */
    static final class Histogram {
        private final double[] bounds;
        private final LongAdder[] counts;
        private final LongAdder count = new LongAdder();
        private final DoubleAdder sum = new DoubleAdder();

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new LongAdder[bounds.length];
            for (int i = 0; i < bounds.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        void observe(double v) {
            for (int i = 0; i < bounds.length; i++) {
                if (v <= bounds[i]) {
                    counts[i].increment();
                }
            }
            count.increment();
            sum.add(v);
        }

        long count() {
            return count.sum();
        }

        void write(StringBuilder out, String name, String help) {
            out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                    .append("# TYPE ").append(name).append(" histogram\n");
            for (int i = 0; i < bounds.length; i++) {
                out.append(name).append("_bucket{le=\"").append(bounds[i]).append("\"} ").append(counts[i].sum()).append('\n');
            }
            out.append(name).append("_bucket{le=\"+Inf\"} ").append(count.sum()).append('\n')
                    .append(name).append("_sum ").append(sum.sum()).append('\n')
                    .append(name).append("_count ").append(count.sum()).append('\n');
        }
    }
}
