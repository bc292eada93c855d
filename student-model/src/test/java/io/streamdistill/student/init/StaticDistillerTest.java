package io.streamdistill.student.init;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.tokenize.TextTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Static distillation against a tiny teacher whose outputs are known in closed form: each token has
 * a fixed vector, and the teacher's pooled output of a sequence is the mean of its tokens' vectors.
 */
class StaticDistillerTest {
    static final int VOCAB = 50;
    static final int WIDTH = 6;
    static final int CLS = 1;
    static final int SEP = 2;
    static final TextTokenizer.Wrapping WRAP = new TextTokenizer.Wrapping(new int[] {CLS}, new int[] {SEP});

    static float vector(int id, int j) {
        return (float) (Math.sin(0.37 * id * (j + 1)) + 0.3 * j + (id % 3) * 0.1);
    }

    /** The tiny teacher: mean of the token vectors of every position (as a mean-pooling encoder without context). */
    static final StaticDistiller.Encoder TEACHER = ids -> {
        float[][] out = new float[ids.length][WIDTH];
        for (int b = 0; b < ids.length; b++) {
            for (int id : ids[b]) {
                for (int j = 0; j < WIDTH; j++) {
                    out[b][j] += vector(id, j) / ids[b].length;
                }
            }
        }
        return out;
    };

    static List<int[]> calibration() {
        List<int[]> texts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            texts.add(WRAP.wrap(3 + i % 47, 3 + (i * 7) % 47, 3 + (i * 13) % 47));
        }
        return texts;
    }

    static StaticTable distill(int dim) {
        return StaticDistiller.distill(Map.of("teacher", "tiny", "teacher_sha256", "abc"), VOCAB, WRAP, new int[] {0, CLS, SEP},
                TEACHER, new StaticDistiller.Settings(dim, 16, Double.NaN, null), calibration(), StaticDistiller.Progress.NONE);
    }

    /** The golden table: a token's row is its SIF weight times the projection of the teacher's pooled [CLS] tok [SEP]. */
    @Test
    void aTokensRowIsTheTeachersPooledOutputOfThatTokenProjectedOnTheBasis() {
        StaticTable t = distill(WIDTH);
        float[] weights = SifWeights.fromRank(VOCAB, SifWeights.RANK_A);
        for (int id = 3; id < VOCAB; id++) {
            float[] pooled = new float[WIDTH];
            for (int j = 0; j < WIDTH; j++) {
                pooled[j] = (vector(CLS, j) + vector(id, j) + vector(SEP, j)) / 3;
            }
            // With D = the teacher's width the basis is complete: basis^T (row / w) + mean gives the pooled output back.
            for (int j = 0; j < WIDTH; j++) {
                double back = t.mean()[j];
                for (int k = 0; k < WIDTH; k++) {
                    back += t.basis()[k * WIDTH + j] * t.table()[id * WIDTH + k] / weights[id];
                }
                assertThat(back).as("token %d, dimension %d", id, j).isCloseTo(pooled[j], within(2e-4));
            }
        }
        for (int special : new int[] {0, CLS, SEP}) {
            for (int k = 0; k < WIDTH; k++) {
                assertThat(t.table()[special * WIDTH + k]).isZero();
            }
        }
    }

    @Test
    void aNarrowerTableKeepsTheLeadingComponents() {
        StaticTable full = distill(WIDTH);
        StaticTable narrow = distill(3);
        for (int id = 3; id < VOCAB; id++) {
            for (int k = 0; k < 3; k++) {
                assertThat(narrow.table()[id * 3 + k]).isCloseTo(full.table()[id * WIDTH + k], within(1e-4f));
            }
        }
        assertThat(narrow.explainedVariance()).isLessThan(full.explainedVariance());
        assertThat(full.explainedVariance()).isCloseTo(1.0, within(1e-6));
    }

    /** The fitted map back points where the teacher points (this teacher is linear, so almost exactly). */
    @Test
    void theMapBackReproducesTheTeachersEmbeddings() {
        StaticTable t = distill(WIDTH);
        assertThat(Double.parseDouble(t.info().get("calibration_cosine"))).isGreaterThan(0.99);
        StudentConfig config = StudentConfig.builder().task(Task.EMBEDDING).vocabSize(VOCAB).embeddingDim(WIDTH).outputDim(WIDTH).build();
        Student s = WarmStart.student(config, t, null);
        Student.Activations a = new Student.Activations(config);
        int[] text = WRAP.wrap(5, 9, 30, 41);
        s.forward(text, null, a);
        float[] teacher = TEACHER.pooled(new int[][] {text})[0];
        double dot = 0;
        double tt = 0;
        for (int j = 0; j < WIDTH; j++) {
            dot += a.prediction[j] * teacher[j];
            tt += teacher[j] * teacher[j];
        }
        assertThat(dot / Math.sqrt(tt)).isGreaterThan(0.99);
    }

    @Test
    void theFileRoundTripsAndACorruptFileIsRefused(@TempDir Path dir) throws Exception {
        StaticTable t = distill(4);
        Path file = dir.resolve("t.sdstatic");
        t.write(file);
        StaticTable back = StaticTable.read(file);
        assertThat(back.sha256()).isEqualTo(t.sha256());
        assertThat(back.teacherSha256()).isEqualTo("abc");
        assertThat(back.table()).containsExactly(t.table());
        assertThat(back.map()).containsExactly(t.map());
        assertThat(back.specialIds()).containsExactly(0, CLS, SEP);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 1;
        Files.write(file, bytes);
        assertThatThrownBy(() -> StaticTable.read(file)).hasMessageContaining("is corrupt");
        Files.writeString(file, "not a table at all, but long enough to have a trailer of sixty-four characters in it......");
        assertThatThrownBy(() -> StaticTable.read(file)).hasMessageContaining("is not a StreamDistill static table");
    }

    @Test
    void rankWeightsFallWithRankAndCountWeightsWithFrequency() {
        float[] rank = SifWeights.fromRank(100, 1e-3);
        assertThat(rank[0]).isLessThan(rank[50]);
        assertThat(rank[50]).isLessThan(rank[99]);
        float[] counts = SifWeights.fromCounts(new long[] {1000, 10, 0}, 1e-2);
        assertThat(counts[0]).isLessThan(counts[1]);
        assertThat(counts[1]).isLessThan(counts[2]);
        assertThat(counts[2]).isLessThan(1f);
    }
}
