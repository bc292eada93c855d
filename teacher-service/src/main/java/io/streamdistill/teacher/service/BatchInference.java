package io.streamdistill.teacher.service;

import io.streamdistill.teacher.model.Teacher;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the teacher on one micro-batch so that a transient failure (a GPU out of memory, a native
 * hiccup) costs a retry, not the batch's records. The rule:
 * <ol>
 *   <li>The batch runs whole. If the teacher fails ({@link IllegalStateException}), the batch is split in
 *       halves and each half runs the same way, down to single records; every part that succeeds gives
 *       its records their outputs, matched by position.</li>
 *   <li>Records that failed alone run once more each, after one short pause. A record that fails again
 *       is given up (the caller dead-letters it) when some other record of the batch succeeded: the
 *       teacher works, so the failure is the record's.</li>
 *   <li>If no record of the batch succeeded, the teacher itself is taken to be broken: {@link #run}
 *       throws {@link TeacherFailedException}, the poll's transaction aborts and the poll is retried
 *       after {@link TeacherFailedException#backoffMs()}. A record that always crashes the teacher looks
 *       the same when it is alone in its batch, so after {@code maxRetries} such aborts with no commit in
 *       between ({@code teacher.failure.retries}), the next attempt gives up the batches that fail whole
 *       instead, saying how many attempts they failed. {@link #committed()} starts the count again.</li>
 * </ol>
 * Not thread-safe: one instance per teacher loop.
 */
final class BatchInference {
    private static final Logger LOG = LoggerFactory.getLogger(BatchInference.class);
    private static final long FIRST_BACKOFF_MS = 500;
    private static final long MAX_BACKOFF_MS = 30_000;

    /** The inference call: outputs (and pooled embeddings, or null) in the order of {@code ids}; throws IllegalStateException on failure. */
    @FunctionalInterface
    interface Infer {
        Teacher.Output run(int[][] ids);
    }

    /**
     * Per record of the batch, in its order: the outputs and pooled embedding (null where failed or not
     * asked for), the teacher's latency per record of the run that succeeded, and why the record was given
     * up (null where it succeeded).
     */
    record Result(float[][] outputs, float[][] embeddings, long[] latencyMicros, String[] failures) {
        boolean failed(int i) {
            return failures[i] != null;
        }
    }

    /** The teacher failed on every record of a batch, each alone too: abort the poll and retry it. */
    static final class TeacherFailedException extends RuntimeException {
        private final long backoffMs;

        TeacherFailedException(String message, long backoffMs, Throwable cause) {
            super(message, cause);
            this.backoffMs = backoffMs;
        }

        /** How long to wait before the poll runs again: 0.5 s doubling per consecutive abort, at most 30 s. */
        long backoffMs() {
            return backoffMs;
        }
    }

    private final Infer infer;
    private final int maxRetries;
    private final Duration alonePause;
    private final Metrics metrics;
    /** Polls aborted in a row because a batch failed whole; reset by a commit. */
    private int consecutiveAborts;

    BatchInference(Infer infer, int maxRetries, Duration alonePause, Metrics metrics) {
        this.infer = infer;
        this.maxRetries = maxRetries;
        this.alonePause = alonePause;
        this.metrics = metrics;
    }

    /** Call after the poll's transaction committed: the teacher's failures so far are behind it. */
    void committed() {
        consecutiveAborts = 0;
    }

    /** Runs the teacher on {@code ids}; throws {@link TeacherFailedException} when the poll is to be retried. */
    Result run(int[][] ids) {
        int n = ids.length;
        Result result = new Result(new float[n][], new float[n][], new long[n], new String[n]);
        IllegalStateException first = attempt(ids, 0, n, result);
        if (first == null) {
            return result;
        }
        // Positions of the records that failed alone, in batch order.
        SortedSet<Integer> alone = new TreeSet<>();
        if (n == 1) {
            alone.add(0);
        } else {
            split(ids, 0, n, result, alone);
        }
        if (!alone.isEmpty()) {
            pause();
        }
        IllegalStateException last = first;
        for (int i : alone) {
            metrics.inferenceRetry(Metrics.RETRY_RECORD);
            IllegalStateException again = attempt(ids, i, i + 1, result);
            if (again != null) {
                result.failures()[i] = again.getMessage();
                last = again;
            }
        }
        int failed = (int) Arrays.stream(result.failures()).filter(Objects::nonNull).count();
        if (failed == n) {
            if (consecutiveAborts < maxRetries) {
                consecutiveAborts++;
                metrics.inferenceRetry(Metrics.RETRY_TRANSACTION);
                long backoff = Math.min(FIRST_BACKOFF_MS << Math.min(consecutiveAborts - 1, 16), MAX_BACKOFF_MS);
                throw new TeacherFailedException("the teacher failed on every text of a batch of " + n
                        + ", each alone too (abort " + consecutiveAborts + " of at most " + maxRetries + " in a row): "
                        + last.getMessage(), backoff, last);
            }
            String why = "the teacher failed on this text alone in " + attempts()
                    + " of its poll, every text of its batch failing each time: " + last.getMessage();
            Arrays.fill(result.failures(), why);
        }
        LOG.warn("teacher failed on a batch of {} texts ({}); after splitting and retrying: {} recovered, {} given up{}",
                n, first.getMessage(), n - failed, failed,
                failed == n ? " after " + attempts() + " of the poll" : "");
        return result;
    }

    private String attempts() {
        return maxRetries == 0 ? "1 attempt" : (maxRetries + 1) + " attempts";
    }

    /** Runs the failed range [from, to) as two halves, recursively; single records that fail land in {@code alone}. */
    private void split(int[][] ids, int from, int to, Result result, SortedSet<Integer> alone) {
        metrics.inferenceRetry(Metrics.RETRY_SPLIT);
        int mid = (from + to) >>> 1;
        for (int[] part : new int[][] {{from, mid}, {mid, to}}) {
            IllegalStateException e = attempt(ids, part[0], part[1], result);
            if (e == null) {
                continue;
            }
            if (part[1] - part[0] == 1) {
                alone.add(part[0]);
            } else {
                split(ids, part[0], part[1], result, alone);
            }
        }
    }

    /** One teacher run on [from, to); fills the result there and returns null, or returns the failure. */
    private IllegalStateException attempt(int[][] ids, int from, int to, Result result) {
        int size = to - from;
        long t0 = System.nanoTime();
        Teacher.Output out;
        try {
            out = infer.run(Arrays.copyOfRange(ids, from, to));
        } catch (IllegalStateException e) {
            return e;
        }
        long micros = (System.nanoTime() - t0) / 1000;
        metrics.batchSize.observe(size);
        metrics.inferenceSeconds.observe(micros / 1e6);
        for (int j = 0; j < size; j++) {
            result.outputs()[from + j] = out.outputs()[j];
            result.embeddings()[from + j] = out.embeddings() == null ? null : out.embeddings()[j];
            result.latencyMicros()[from + j] = micros / size;
        }
        return null;
    }

    private void pause() {
        try {
            Thread.sleep(alonePause.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
