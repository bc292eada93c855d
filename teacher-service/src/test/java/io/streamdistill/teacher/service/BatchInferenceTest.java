package io.streamdistill.teacher.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.streamdistill.teacher.model.Teacher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The retry rule of {@link BatchInference}, driven by inference functions that fail like a teacher
 * can: record i is the ids {@code {i}}, and its output and embedding carry i, so a result put at the
 * wrong position shows.
 */
class BatchInferenceTest {
    private final Metrics metrics = new Metrics();
    private final List<Integer> callSizes = new ArrayList<>();

    /** A teacher that fails (like ONNX Runtime: IllegalStateException) on the batches {@code fails} accepts. */
    private BatchInference.Infer teacher(Predicate<int[][]> fails) {
        return ids -> {
            callSizes.add(ids.length);
            if (fails.test(ids)) {
                throw new IllegalStateException("ONNX Runtime failed on a batch of " + ids.length + " texts: simulated");
            }
            float[][] out = new float[ids.length][];
            float[][] emb = new float[ids.length][];
            for (int i = 0; i < ids.length; i++) {
                out[i] = new float[] {ids[i][0], -ids[i][0]};
                emb[i] = new float[] {ids[i][0] * 10f};
            }
            return new Teacher.Output(out, emb);
        };
    }

    private BatchInference inference(Predicate<int[][]> fails, int maxRetries) {
        return new BatchInference(teacher(fails), maxRetries, Duration.ofMillis(1), metrics);
    }

    private static int[][] records(int n) {
        int[][] ids = new int[n][];
        for (int i = 0; i < n; i++) {
            ids[i] = new int[] {i};
        }
        return ids;
    }

    private static boolean contains(int[][] ids, int id) {
        for (int[] row : ids) {
            if (row[0] == id) {
                return true;
            }
        }
        return false;
    }

    private static void assertEveryOutputMatchesItsRecord(BatchInference.Result r, int n, int... except) {
        List<Integer> skipped = Arrays.stream(except).boxed().toList();
        for (int i = 0; i < n; i++) {
            if (skipped.contains(i)) {
                continue;
            }
            assertThat(r.failed(i)).as("record %d failed", i).isFalse();
            assertThat(r.outputs()[i]).as("output of record %d", i).containsExactly(i, -i);
            assertThat(r.embeddings()[i]).as("embedding of record %d", i).containsExactly(i * 10f);
            assertThat(r.latencyMicros()[i]).isNotNegative();
        }
    }

    @Test
    void aBatchTooLargeForTheDeviceIsSplitUntilItFitsAndNoRecordIsLost() {
        // Out of memory above 3 texts: 10 -> 5 -> 3 + 2, every part that fits succeeds.
        BatchInference inference = inference(ids -> ids.length > 3, 3);

        BatchInference.Result r = inference.run(records(10));

        assertEveryOutputMatchesItsRecord(r, 10);
        assertThat(callSizes.stream().filter(s -> s <= 3).mapToInt(Integer::intValue).sum())
                .as("each record ran once successfully").isEqualTo(10);
        assertThat(metrics.inferenceRetries(Metrics.RETRY_SPLIT)).isEqualTo(3); // 10, 5 and 5
        assertThat(metrics.inferenceRetries(Metrics.RETRY_RECORD)).isZero();
        assertThat(metrics.deadLetters()).isZero();
    }

    @Test
    void onlyThePoisonRecordIsGivenUpAndTheOthersKeepTheirOwnOutputs() {
        BatchInference inference = inference(ids -> contains(ids, 6), 3);

        BatchInference.Result r = inference.run(records(16));

        assertEveryOutputMatchesItsRecord(r, 16, 6);
        assertThat(r.failed(6)).isTrue();
        assertThat(r.outputs()[6]).isNull();
        assertThat(r.failures()[6]).contains("simulated");
        assertThat(metrics.inferenceRetries(Metrics.RETRY_RECORD)).as("run alone once more").isEqualTo(1);
        assertThat(metrics.inferenceRetries(Metrics.RETRY_TRANSACTION)).isZero();
    }

    @Test
    void aFailureThatPassesCostsARetryAndNothingElse() {
        AtomicInteger calls = new AtomicInteger();
        BatchInference inference = inference(ids -> calls.getAndIncrement() == 0, 3);

        BatchInference.Result r = inference.run(records(8));

        assertEveryOutputMatchesItsRecord(r, 8);
        assertThat(callSizes).containsExactly(8, 4, 4);
    }

    @Test
    void aSingleRecordThatFailsOnceIsRunAgainAlone() {
        AtomicInteger calls = new AtomicInteger();
        BatchInference inference = inference(ids -> calls.getAndIncrement() == 0, 3);

        BatchInference.Result r = inference.run(records(1));

        assertEveryOutputMatchesItsRecord(r, 1);
        assertThat(callSizes).containsExactly(1, 1);
        assertThat(metrics.inferenceRetries(Metrics.RETRY_RECORD)).isEqualTo(1);
    }

    @Test
    void aTeacherThatFailsOnEverythingAbortsThePollUntilTheLimitThenTheBatchIsGivenUp() {
        BatchInference inference = inference(ids -> true, 3);
        List<Long> backoffs = new ArrayList<>();
        for (int attempt = 1; attempt <= 3; attempt++) {
            callSizes.clear();
            Throwable thrown = catchThrowable(() -> inference.run(records(4)));
            assertThat(thrown).isInstanceOf(BatchInference.TeacherFailedException.class)
                    .hasMessageContaining("every text of a batch of 4").hasMessageContaining("abort " + attempt + " of at most 3")
                    .hasMessageContaining("simulated");
            backoffs.add(((BatchInference.TeacherFailedException) thrown).backoffMs());
            // Whole, halves, quarters (singles), then each single once more.
            assertThat(callSizes).containsExactly(4, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1);
        }
        assertThat(backoffs).containsExactly(500L, 1000L, 2000L);
        assertThat(metrics.inferenceRetries(Metrics.RETRY_TRANSACTION)).isEqualTo(3);

        BatchInference.Result r = inference.run(records(4));

        for (int i = 0; i < 4; i++) {
            assertThat(r.failed(i)).isTrue();
            assertThat(r.failures()[i]).contains("failed on this text alone in 4 attempts").contains("simulated");
        }
        // The count went on without a commit: a second batch of the same (last) attempt is given up too.
        assertThat(inference.run(records(2)).failed(1)).isTrue();
    }

    @Test
    void aCommitStartsTheCountOfAbortsAgain() {
        BatchInference inference = inference(ids -> true, 2);
        assertThatThrownBy(() -> inference.run(records(1))).isInstanceOf(BatchInference.TeacherFailedException.class);
        assertThatThrownBy(() -> inference.run(records(1))).isInstanceOf(BatchInference.TeacherFailedException.class);

        inference.committed();

        assertThatThrownBy(() -> inference.run(records(1))).isInstanceOf(BatchInference.TeacherFailedException.class)
                .hasMessageContaining("abort 1 of at most 2");
    }

    @Test
    void withNoRetriesABatchThatFailsWholeIsGivenUpAtOnce() {
        BatchInference inference = inference(ids -> true, 0);

        BatchInference.Result r = inference.run(records(3));

        assertThat(r.failures()).allMatch(f -> f.contains("alone in 1 attempt of its poll"));
        assertThat(metrics.inferenceRetries(Metrics.RETRY_TRANSACTION)).isZero();
    }

    @Test
    void theRetriesAreCountedInTheMetrics() {
        inference(ids -> contains(ids, 0), 3).run(records(2));

        assertThat(metrics.prometheus(true))
                .contains("# TYPE streamdistill_teacher_inference_retries_total counter")
                .contains("streamdistill_teacher_inference_retries_total{kind=\"split\"} 1")
                .contains("streamdistill_teacher_inference_retries_total{kind=\"record\"} 1")
                .contains("streamdistill_teacher_inference_retries_total{kind=\"transaction\"} 0");
    }
}
