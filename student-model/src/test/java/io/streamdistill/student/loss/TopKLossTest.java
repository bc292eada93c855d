package io.streamdistill.student.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.student.train.Rng;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class TopKLossTest {

    /** The residual bucket makes the top-k loss a true KL: zero when the student equals the teacher. */
    @Test
    void isZeroWhenTheStudentMatchesTheTeacherExactly() {
        float[] teacherRow = {3f, 1f, 0.5f, -2f, 0f, 2.5f};
        int[] top = {0, 5};
        float[] topLogits = {3f, 2.5f};
        float lse = (float) DistillationLoss.logSumExp(teacherRow, 1f);
        float[] grad = new float[teacherRow.length];
        assertThat(DistillationLoss.topK(teacherRow, top, topLogits, lse, grad)).isCloseTo(0f, Offset.offset(1e-6f));
        for (float g : grad) {
            assertThat(g).isCloseTo(0f, Offset.offset(1e-6f));
        }
    }

    @Test
    void gradientMatchesFiniteDifferencesOfTheDoubleReference() {
        Rng rng = new Rng(3);
        int vocab = 40;
        float[] student = new float[vocab];
        float[] teacherRow = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            student[i] = (float) rng.nextGaussian();
            teacherRow[i] = (float) (rng.nextGaussian() * 2);
        }
        int[] top = {4, 11, 30, 2, 17};
        float[] topLogits = new float[top.length];
        for (int k = 0; k < top.length; k++) {
            topLogits[k] = teacherRow[top[k]];
        }
        float lse = (float) DistillationLoss.logSumExp(teacherRow, 1f);
        float[] grad = new float[vocab];
        float loss = DistillationLoss.topK(student, top, topLogits, lse, grad);

        double[] z = new double[vocab];
        for (int i = 0; i < vocab; i++) {
            z[i] = student[i];
        }
        assertThat((double) loss).isCloseTo(io.streamdistill.student.model.ReferenceModelAccess.topK(z, top, topLogits, lse),
                Offset.offset(1e-5));
        double h = 1e-4;
        for (int j = 0; j < vocab; j++) {
            double saved = z[j];
            z[j] = saved + h;
            double up = io.streamdistill.student.model.ReferenceModelAccess.topK(z, top, topLogits, lse);
            z[j] = saved - h;
            double down = io.streamdistill.student.model.ReferenceModelAccess.topK(z, top, topLogits, lse);
            z[j] = saved;
            assertThat((double) grad[j]).as("dL/dz[%d]", j).isCloseTo((up - down) / (2 * h), Offset.offset(2e-5));
        }
    }

    @Test
    void rejectsIdsOutsideTheVocabularyAndRepeats() {
        float[] s = new float[4];
        float[] g = new float[4];
        assertThatThrownBy(() -> DistillationLoss.topK(s, new int[] {9}, new float[] {1f}, 2f, g))
                .hasMessageContaining("token id 9");
        assertThatThrownBy(() -> DistillationLoss.topK(s, new int[] {1, 1}, new float[] {1f, 1f}, 2f, g))
                .hasMessageContaining("appears twice");
    }
}
