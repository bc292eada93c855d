package io.streamdistill.student.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.loss.EmbeddingLoss;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Rng;
import io.streamdistill.student.train.TrainingConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every analytic gradient against central finite differences of the double-precision reference. */
class GradientCheckTest {
    private static final double H = 1e-4;

    static Stream<Arguments> architectures() {
        List<Arguments> cases = new ArrayList<>();
        for (int bigrams : new int[] {0, 37}) {
            for (int hidden : new int[] {0, 6}) {
                for (Activation act : hidden == 0 ? new Activation[] {Activation.RELU} : Activation.values()) {
                    cases.add(Arguments.of("classification, label, T=3", Task.CLASSIFICATION, bigrams, hidden, act, 3f, 2, null));
                    cases.add(Arguments.of("classification, no label, T=1", Task.CLASSIFICATION, bigrams, hidden, act, 1f, -1, null));
                    cases.add(Arguments.of("embedding, cosine", Task.EMBEDDING, bigrams, hidden, act, 1f, -1, EmbeddingLoss.COSINE));
                    cases.add(Arguments.of("embedding, mse", Task.EMBEDDING, bigrams, hidden, act, 1f, -1, EmbeddingLoss.MSE));
                    cases.add(Arguments.of("classification + feature KD, label, T=2", Task.CLASSIFICATION, bigrams, hidden, act, 2f, 1,
                            null));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}, bigrams={2}, hidden={3} {4}")
    @MethodSource("architectures")
    void analyticGradientsMatchFiniteDifferences(String name, Task task, int bigrams, int hidden, Activation act,
                                                 float temperature, int label, EmbeddingLoss embeddingLoss) {
        boolean featureKd = name.contains("feature KD");
        StudentConfig c = StudentConfig.builder().task(task).vocabSize(50).embeddingDim(5).bigramBuckets(bigrams)
                .hiddenDim(hidden).activation(act).outputDim(7).featureDim(featureKd ? 6 : 0)
                .classNames(List.of("a", "b", "c", "d")).seed(7).build();
        TrainingConfig tc = TrainingConfig.builder().temperature(temperature).alpha(0.6f).featureBeta(featureKd ? 0.8f : 0f)
                .embeddingLoss(embeddingLoss == null ? EmbeddingLoss.COSINE : embeddingLoss).build();
        Rng rng = new Rng(11);
        Student student = new Student(c);
        // Bigger weights than the initialisation, so every term has a visible gradient.
        for (float[] p : student.parameters()) {
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) (rng.nextGaussian() * 0.5);
            }
        }
        int[] ids = {3, 17, 17, 42, 0, 9};
        float[] teacher = new float[c.outputDim()];
        for (int i = 0; i < teacher.length; i++) {
            teacher[i] = (float) (rng.nextGaussian() * 2);
        }
        float[] teacherEmbedding = new float[6];
        for (int i = 0; i < teacherEmbedding.length; i++) {
            teacherEmbedding[i] = (float) rng.nextGaussian();
        }
        Example e = new Example(ids, teacher, label).withFeatures(featureKd ? teacherEmbedding : null);

        Student.Activations a = new Student.Activations(c);
        student.forward(ids, null, a);
        float[] gradFeature = null;
        float featureLoss = 0;
        if (featureKd) {
            student.featureForward(a);
            float[] gradUnit = new float[6];
            featureLoss = 0.8f * DistillationLoss.embedding(a.featureUnit, teacherEmbedding, EmbeddingLoss.COSINE, gradUnit);
            for (int i = 0; i < gradUnit.length; i++) {
                gradUnit[i] *= 0.8f;
            }
            gradFeature = new float[6];
            Student.backThroughFeatureNormalisation(a, gradUnit, gradFeature);
        }
        float[] gradOut = new float[c.outputDim()];
        float loss;
        if (task == Task.CLASSIFICATION) {
            loss = DistillationLoss.classification(a.out, teacher, label, temperature, 0.6f, gradOut);
        } else {
            float[] gradPred = new float[c.outputDim()];
            loss = DistillationLoss.embedding(a.prediction, teacher, tc.embeddingLoss(), gradPred);
            Student.backThroughNormalisation(a, gradPred, gradOut);
        }
        loss += featureLoss;
        Gradients g = new Gradients(c);
        student.backward(a, gradOut, 1f, g, gradFeature);

        double[][] p = ReferenceModel.toDouble(student.parameters());
        assertThat((double) loss).as("forward pass vs reference").isCloseTo(ReferenceModel.loss(c, tc, p, e),
                org.assertj.core.data.Offset.offset(1e-5 + 1e-5 * Math.abs(loss)));

        float[][] analytic = {g.tokens, g.bigrams, g.w1, g.b1, g.w2, g.b2, g.fp, g.fb};
        String[] names = {"tokens", "bigrams", "w1", "b1", "w2", "b2", "fp", "fb"};
        int checked = 0;
        for (int t = 0; t < p.length; t++) {
            for (int i = 0; i < p[t].length; i++) {
                boolean sparse = t <= 1;
                if (sparse && analytic[t][i] == 0f && !touched(c, t, i, ids)) {
                    continue; // rows the text does not use: zero both ways, checked by the sparse test below
                }
                double saved = p[t][i];
                p[t][i] = saved + H;
                double up = ReferenceModel.loss(c, tc, p, e);
                p[t][i] = saved - H;
                double down = ReferenceModel.loss(c, tc, p, e);
                p[t][i] = saved;
                double numeric = (up - down) / (2 * H);
                assertThat((double) analytic[t][i]).as("dL/d%s[%d]", names[t], i)
                        .isCloseTo(numeric, org.assertj.core.data.Offset.offset(2e-4 + 2e-3 * Math.abs(numeric)));
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(20);
        // Untouched embedding rows have exactly zero gradient and are not listed as touched.
        assertThat(g.touchedTokens()).containsExactlyInAnyOrder(3, 17, 42, 0, 9);
    }

    private static boolean touched(StudentConfig c, int table, int index, int[] ids) {
        int row = index / c.embeddingDim();
        for (int i = 0; i < ids.length; i++) {
            if (table == 0 && ids[i] == row) {
                return true;
            }
            if (table == 1 && i + 1 < ids.length && Student.bigramBucket(ids[i], ids[i + 1], c.bigramBuckets()) == row) {
                return true;
            }
        }
        return false;
    }
}
