package io.streamdistill.student.init;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WarmStartTest {

    /** The classification head composed with the map back gives the teacher head's logits of the reconstruction. */
    @Test
    void aClassificationStudentAppliesTheTeachersHeadToItsReconstruction() {
        StaticTable t = StaticDistillerTest.distill(StaticDistillerTest.WIDTH);
        int m = StaticDistillerTest.WIDTH;
        float[][] w = {{1, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 0}};
        WarmStart.TeacherHead head = new WarmStart.TeacherHead(List.of("a", "b", "c"), w, new float[] {0.5f, 0, -0.5f}, false);
        StudentConfig config = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(StaticDistillerTest.VOCAB).embeddingDim(m)
                .classNames(List.of("a", "b", "c")).build();
        Student s = WarmStart.student(config, t, head);
        Student.Activations a = new Student.Activations(config);
        int[] text = StaticDistillerTest.WRAP.wrap(7, 8, 22);
        s.forward(text, null, a);
        float[] recon = t.reconstruct(t.pool(text));
        for (int c = 0; c < 3; c++) {
            double expected = head.bias()[c];
            for (int j = 0; j < m; j++) {
                expected += w[c][j] * recon[j];
            }
            assertThat(a.out[c]).isCloseTo((float) expected, within(1e-4f));
        }
        assertThat(DistillationLoss.argmax(a.out)).isBetween(0, 2);
    }

    @Test
    void aMismatchedStudentIsRefusedWithTheReason() {
        StaticTable t = StaticDistillerTest.distill(4);
        StudentConfig wide = StudentConfig.builder().task(Task.EMBEDDING).vocabSize(StaticDistillerTest.VOCAB).embeddingDim(8)
                .outputDim(StaticDistillerTest.WIDTH).build();
        assertThatThrownBy(() -> WarmStart.student(wide, t, null)).hasMessageContaining("student.embedding.dim is 8 but the static table has D=4");
        StudentConfig otherVocab = StudentConfig.builder().task(Task.EMBEDDING).vocabSize(99).embeddingDim(4)
                .outputDim(StaticDistillerTest.WIDTH).build();
        assertThatThrownBy(() -> WarmStart.student(otherVocab, t, null)).hasMessageContaining("another tokenizer");
        StudentConfig hidden = StudentConfig.builder().task(Task.EMBEDDING).vocabSize(StaticDistillerTest.VOCAB).embeddingDim(4)
                .hiddenDim(8).outputDim(StaticDistillerTest.WIDTH).build();
        assertThatThrownBy(() -> WarmStart.student(hidden, t, null)).hasMessageContaining("student.hidden.dim=0");
    }

    @Test
    void aTeacherHeadFileRoundTrips(@TempDir Path dir) {
        WarmStart.TeacherHead head = new WarmStart.TeacherHead(List.of("x", "y"), new float[][] {{1, 2}, {3, 4}}, new float[] {0.5f, -1},
                true);
        Path file = dir.resolve("head.json");
        head.write(file);
        WarmStart.TeacherHead back = WarmStart.TeacherHead.read(file);
        assertThat(back.classes()).containsExactly("x", "y");
        assertThat(back.weights()[1]).containsExactly(3, 4);
        assertThat(back.bias()).containsExactly(0.5f, -1);
        assertThat(back.unitInput()).isTrue();
    }
}
