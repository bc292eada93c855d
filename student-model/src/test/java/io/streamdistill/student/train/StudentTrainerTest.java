package io.streamdistill.student.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.student.loss.EmbeddingLoss;
import io.streamdistill.student.model.Activation;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class StudentTrainerTest {

    private static StudentConfig classifier(int vocab) {
        return StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(vocab).embeddingDim(32)
                .classNames(List.of("w", "x", "y", "z")).seed(1).build();
    }

    private static double trainAndMeasure(StudentTrainer trainer, List<Example> train, List<Example> holdout, int epochs) {
        for (int epoch = 0; epoch < epochs; epoch++) {
            for (int i = 0; i + 32 <= train.size(); i += 32) {
                trainer.train(train.subList(i, i + 32));
            }
        }
        return holdout.stream().mapToDouble(e -> trainer.evaluate(e).agreement()).average().orElseThrow();
    }

    /** A classification student matches a fixed synthetic teacher on texts it never saw. */
    @Test
    void classificationStudentReaches95PercentAgreementOnHeldOutTexts() {
        SyntheticTeacher teacher = new SyntheticTeacher(400, 12, 4, 6f, 99);
        StudentTrainer trainer = StudentTrainer.create(classifier(400),
                TrainingConfig.builder().learningRate(0.02f).temperature(2f).warmupSteps(20).build());
        double before = teacher.examples(500, 2).stream().mapToDouble(e -> trainer.evaluate(e).agreement()).average().orElseThrow();
        double agreement = trainAndMeasure(trainer, teacher.examples(8000, 1), teacher.examples(1000, 2), 4);
        assertThat(before).as("an untrained student is near chance").isLessThan(0.6);
        assertThat(agreement).isGreaterThanOrEqualTo(0.95);
    }

    /** An embedding student (with a hidden layer and bigrams) gets a mean cosine >= 0.9 to its teacher. */
    @Test
    void embeddingStudentReachesCosine09OnHeldOutTexts() {
        SyntheticTeacher teacher = new SyntheticTeacher(400, 12, 24, 1f, 98);
        StudentConfig config = StudentConfig.builder().task(Task.EMBEDDING).vocabSize(400).embeddingDim(48)
                .bigramBuckets(512).hiddenDim(48).activation(Activation.TANH).outputDim(24).seed(2).build();
        StudentTrainer trainer = StudentTrainer.create(config,
                TrainingConfig.builder().learningRate(0.01f).embeddingLoss(EmbeddingLoss.COSINE).warmupSteps(20).build());
        double cosine = trainAndMeasure(trainer, teacher.examples(8000, 3), teacher.examples(1000, 4), 4);
        assertThat(cosine).isGreaterThanOrEqualTo(0.9);
    }

    /** Restoring from bytes, then training, gives exactly the parameters of never having stopped. */
    @Test
    void trainingAfterARestoreIsBitIdentical() {
        SyntheticTeacher teacher = new SyntheticTeacher(300, 8, 4, 4f, 5);
        List<Example> data = teacher.examples(64 * 20, 6);
        StudentConfig config = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(300).embeddingDim(16)
                .bigramBuckets(128).hiddenDim(8).classNames(List.of("a", "b", "c", "d")).seed(3).build();
        // Token dropout draws random numbers, so the random state must survive the round trip too.
        TrainingConfig training = TrainingConfig.builder().tokenDropout(0.2f).warmupSteps(5).build();
        StudentTrainer uninterrupted = StudentTrainer.create(config, training);
        StudentTrainer interrupted = StudentTrainer.create(config, training);
        for (int s = 0; s < 10; s++) {
            uninterrupted.train(data.subList(s * 64, s * 64 + 64));
            interrupted.train(data.subList(s * 64, s * 64 + 64));
        }
        StudentTrainer restored = StudentTrainer.fromBytes(interrupted.toBytes());
        assertThat(restored.step()).isEqualTo(10);
        for (int s = 10; s < 20; s++) {
            uninterrupted.train(data.subList(s * 64, s * 64 + 64));
            restored.train(data.subList(s * 64, s * 64 + 64));
        }
        float[][] a = uninterrupted.student().parameters();
        float[][] b = restored.student().parameters();
        for (int i = 0; i < a.length; i++) {
            assertThat(Arrays.equals(a[i], b[i])).as("parameter array %d", i).isTrue();
        }
        assertThat(restored.toBytes()).isEqualTo(uninterrupted.toBytes());
    }

    /**
     * A state streamed out and back in (as a checkpoint does) equals the in-memory bytes, with arrays
     * larger than one copy piece, and leaves the stream just after it.
     */
    @Test
    void aStreamedStateRoundTripsAndEndsWhereItWasWritten() throws Exception {
        StudentConfig config = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(3000).embeddingDim(40)
                .bigramBuckets(2000).classNames(List.of("a", "b", "c", "d")).seed(4).build();
        StudentTrainer trainer = StudentTrainer.create(config, TrainingConfig.builder().build());
        trainer.train(new SyntheticTeacher(3000, 8, 4, 4f, 7).examples(32, 8));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        trainer.writeTo(out);
        out.write(new byte[] {7, 7});
        assertThat(Arrays.copyOf(out.toByteArray(), out.size() - 2)).isEqualTo(trainer.toBytes());
        java.io.ByteArrayInputStream in = new java.io.ByteArrayInputStream(out.toByteArray());
        StudentTrainer read = StudentTrainer.readFrom(in);
        assertThat(read.toBytes()).isEqualTo(trainer.toBytes());
        assertThat(in.readAllBytes()).containsExactly(7, 7);
        assertThatThrownBy(() -> StudentTrainer.readFrom(new java.io.ByteArrayInputStream(Arrays.copyOf(out.toByteArray(), 5000))))
                .hasMessageContaining("truncated or corrupt");
    }

    /** A batch reports the mean loss, agreement and KL its examples had before the update (progressive validation). */
    @Test
    void aBatchReportsItsExamplesScoresBeforeTheUpdate() {
        List<Example> batch = new SyntheticTeacher(400, 12, 4, 6f, 11).examples(32, 12);
        StudentTrainer trainer = StudentTrainer.create(classifier(400), TrainingConfig.builder().build());
        double loss = batch.stream().mapToDouble(e -> trainer.evaluate(e).loss()).average().orElseThrow();
        double agreement = batch.stream().mapToDouble(e -> trainer.evaluate(e).agreement()).average().orElseThrow();
        double kl = batch.stream().mapToDouble(e -> trainer.evaluate(e).kl()).average().orElseThrow();
        BatchResult result = trainer.train(batch);
        assertThat((double) result.meanLoss()).isCloseTo(loss, org.assertj.core.data.Offset.offset(1e-5));
        assertThat((double) result.meanAgreement()).isCloseTo(agreement, org.assertj.core.data.Offset.offset(1e-6));
        assertThat((double) result.meanKl()).isCloseTo(kl, org.assertj.core.data.Offset.offset(1e-5));
    }

    /** An example of weight 3 moves the student as three copies of it would (importance weights), and bad weights are refused. */
    @Test
    void aWeightedExampleCountsLikeThatManyCopies() {
        SyntheticTeacher teacher = new SyntheticTeacher(200, 8, 4, 4f, 11);
        List<Example> data = teacher.examples(40, 12);
        StudentTrainer weighted = StudentTrainer.create(classifier(200), TrainingConfig.defaults());
        StudentTrainer copied = StudentTrainer.create(classifier(200), TrainingConfig.defaults());
        for (int step = 0; step < 5; step++) {
            List<Example> batch = data.subList(step * 8, step * 8 + 8);
            List<Example> withWeight = new java.util.ArrayList<>(batch);
            withWeight.set(0, batch.get(0).withWeight(3f));
            List<Example> withCopies = new java.util.ArrayList<>(batch);
            withCopies.add(batch.get(0));
            withCopies.add(batch.get(0));
            BatchResult w = weighted.train(withWeight);
            BatchResult c = copied.train(withCopies);
            assertThat(w.meanLoss()).isCloseTo(c.meanLoss(), org.assertj.core.data.Offset.offset(1e-5f));
        }
        float[][] a = weighted.student().parameters();
        float[][] b = copied.student().parameters();
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                assertThat(a[i][j]).as("parameter %d[%d]", i, j).isCloseTo(b[i][j], org.assertj.core.data.Offset.offset(1e-5f));
            }
        }
        assertThat(Arrays.equals(a[0], StudentTrainer.create(classifier(200), TrainingConfig.defaults()).student().parameters()[0]))
                .as("the student moved").isFalse();
        assertThatThrownBy(() -> data.get(0).withWeight(0f)).hasMessageContaining("weight must be positive and finite, got 0.0");
        assertThatThrownBy(() -> data.get(0).withWeight(Float.NaN)).hasMessageContaining("got NaN");
    }

    @Test
    void sameSeedSameStudentAndBadStateIsRefused() {
        StudentTrainer a = StudentTrainer.create(classifier(50), TrainingConfig.defaults());
        StudentTrainer b = StudentTrainer.create(classifier(50), TrainingConfig.defaults());
        assertThat(a.toBytes()).isEqualTo(b.toBytes());
        assertThatThrownBy(() -> StudentTrainer.fromBytes(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))
                .hasMessageContaining("not a StreamDistill trainer state");
        byte[] state = a.toBytes();
        assertThatThrownBy(() -> StudentTrainer.fromBytes(Arrays.copyOf(state, state.length / 2)))
                .hasMessageContaining("truncated or corrupt");
        state[7] = 99; // format version
        assertThatThrownBy(() -> StudentTrainer.fromBytes(state)).hasMessageContaining("format version 99");
    }

    @Test
    void configErrorsNameTheFieldAndValue() {
        assertThatThrownBy(() -> StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(10).classNames(List.of("one")).build())
                .hasMessageContaining("student.classNames").hasMessageContaining("[one]");
        assertThatThrownBy(() -> TrainingConfig.builder().temperature(0f).build())
                .hasMessageContaining("training.temperature").hasMessageContaining("0.0");
        assertThatThrownBy(() -> TrainingConfig.fromMap(java.util.Map.of("alpha", "lots")))
                .hasMessageContaining("training.alpha").hasMessageContaining("'lots'");
        assertThatThrownBy(() -> StudentConfig.fromMap(java.util.Map.of("task", "REGRESSION")))
                .hasMessageContaining("student.task").hasMessageContaining("REGRESSION");
    }

    @Test
    void warmupThenConstantLearningRate() {
        TrainingConfig c = TrainingConfig.builder().learningRate(0.01f).warmupSteps(100).build();
        assertThat(c.learningRateAt(1)).isEqualTo(0.0001f);
        assertThat(c.learningRateAt(50)).isEqualTo(0.005f);
        assertThat(c.learningRateAt(100)).isEqualTo(0.01f);
        assertThat(c.learningRateAt(1_000_000_000L)).isEqualTo(0.01f);
    }

    /** States written before feature distillation existed (format 1: six parameter arrays) still load. */
    @Test
    void aFormatOneStateStillLoads() {
        StudentTrainer t = StudentTrainer.create(classifier(60), TrainingConfig.defaults());
        t.train(List.of(new Example(new int[] {1, 2, 3}, new float[] {1, 0, 0, 0}, -1)));
        byte[] v2 = t.toBytes();
        // Format 1 is format 2 without the two empty feature arrays (each written with its two Adam moments).
        byte[] v1 = Arrays.copyOf(v2, v2.length - 2 * 3 * 4);
        java.nio.ByteBuffer.wrap(v1).putInt(4, 1);
        StudentTrainer back = StudentTrainer.fromBytes(v1);
        assertThat(back.toBytes()).isEqualTo(v2);
    }
}
