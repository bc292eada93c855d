package io.streamdistill.teacher.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamdistill.student.init.SifWeights;
import io.streamdistill.student.init.StaticDistiller;
import io.streamdistill.student.init.StaticTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Static distillation of a real ONNX model in ONNX Runtime, whose pooled outputs are known in closed form. */
class StaticDistillationTest {

    /**
     * The golden table: each token's row, mapped back through the (complete) PCA basis and divided by
     * its SIF weight, is the teacher's mean-pooled output of [CLS] token [SEP].
     */
    @Test
    void aTokensRowIsThePooledTeacherOutputOfThatTokenProjectedOnTheBasis(@TempDir Path dir) throws Exception {
        try (Teacher teacher = Teacher.load(TinyEncoder.write(dir, 30522, 0), 1, Teacher.Device.CPU, 0)) {
            StaticTable t = StaticDistillation.distill(teacher, TinyEncoder.WIDTH, null, StaticDistiller.Progress.NONE);
            int m = TinyEncoder.WIDTH;
            float[] w = SifWeights.fromRank(30522, SifWeights.RANK_A);
            for (int id : new int[] {1037, 2088, 3899, 7592, 29000}) {
                for (int j = 0; j < m; j++) {
                    double pooled = (TinyEncoder.value(101, j, 0) + TinyEncoder.value(id, j, 0) + TinyEncoder.value(102, j, 0)) / 3;
                    double back = t.mean()[j];
                    for (int k = 0; k < m; k++) {
                        back += t.basis()[k * m + j] * t.table()[id * m + k] / w[id];
                    }
                    assertThat(back).as("token %d dimension %d", id, j).isCloseTo(pooled, within(1e-4));
                }
            }
            for (int special : new int[] {0, 100, 101, 102, 103}) {
                assertThat(t.table()[special * m]).as("special token %d", special).isZero();
            }
            assertThat(t.teacherSha256()).isEqualTo(teacher.encoderSha256());
            assertThat(t.info()).containsEntry("teacher", "tiny-0").containsKey("total_seconds");
        }
    }

    /** The cache is keyed by the teacher encoder's sha256 and D: a different teacher never gets another's table. */
    @Test
    void theCacheServesOnlyTheSameTeacherAndD(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("cache");
        try (Teacher a = Teacher.load(TinyEncoder.write(dir.resolve("a"), 30522, 0), 1, Teacher.Device.CPU, 0);
             Teacher b = Teacher.load(TinyEncoder.write(dir.resolve("b"), 30522, 1), 1, Teacher.Device.CPU, 0)) {
            StaticDistillation.Result first = StaticDistillation.cached(a, 4, null, cache, StaticDistiller.Progress.NONE);
            assertThat(first.reused()).isFalse();
            StaticDistillation.Result again = StaticDistillation.cached(a, 4, null, cache, StaticDistiller.Progress.NONE);
            assertThat(again.reused()).isTrue();
            assertThat(again.table().sha256()).isEqualTo(first.table().sha256());
            assertThat(StaticDistillation.cached(a, 6, null, cache, StaticDistiller.Progress.NONE).reused()).as("another D").isFalse();

            assertThat(b.encoderSha256()).isNotEqualTo(a.encoderSha256());
            StaticDistillation.Result other = StaticDistillation.cached(b, 4, null, cache, StaticDistiller.Progress.NONE);
            assertThat(other.reused()).isFalse();
            assertThat(other.file()).isNotEqualTo(first.file());
            assertThat(other.table().teacherSha256()).isEqualTo(b.encoderSha256());

            // Even a table planted under teacher b's name is not served to b: it names teacher a inside.
            Files.copy(first.file(), other.file(), StandardCopyOption.REPLACE_EXISTING);
            StaticDistillation.Result planted = StaticDistillation.cached(b, 4, null, cache, StaticDistiller.Progress.NONE);
            assertThat(planted.reused()).isFalse();
            assertThat(planted.table().teacherSha256()).isEqualTo(b.encoderSha256());
            // A corrupt file is distilled again too.
            byte[] bytes = Files.readAllBytes(other.file());
            bytes[100] ^= 1;
            Files.write(other.file(), bytes);
            assertThat(StaticDistillation.cached(b, 4, null, cache, StaticDistiller.Progress.NONE).reused()).isFalse();
        }
    }
}
