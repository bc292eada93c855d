package io.streamdistill.student.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelSyncTest {
    private static final StudentConfig CONFIG = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(50).embeddingDim(4)
            .bigramBuckets(16).classNames(List.of("a", "b")).seed(3).build();

    private static StudentTrainer trainer() {
        return StudentTrainer.create(CONFIG, TrainingConfig.builder().warmupSteps(0).build());
    }

    private static List<Example> batch(int... tokens) {
        List<Example> b = new ArrayList<>();
        for (int i = 0; i + 1 < tokens.length; i += 2) {
            b.add(Example.unlabelled(new int[] {tokens[i], tokens[i + 1]}, new float[] {tokens[i] % 2 == 0 ? 2f : -2f, 0f}));
        }
        return b;
    }

    private static float maxDifference(float[][] a, float[][] b) {
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return max;
    }

    @Test
    void oneReplicaMergedRoundByRoundIsTheReplicasOwnModel() {
        Replica replica = new Replica(trainer());
        Student merged = new Student(CONFIG); // same seed: the same start
        for (int round = 0; round < 5; round++) {
            replica.train(batch(1, 2, 3, 4, round + 5, 9));
            replica.train(batch(10, 11, 1, 12));
            ModelDelta own = replica.take();
            ModelDelta m = ModelDelta.mean(List.of(own));
            m.applyTo(merged);
            replica.adopt(m, own);
        }
        assertThat(maxDifference(merged.parameters(), replica.trainer().student().parameters())).isLessThan(1e-5f);
        assertThat(maxDifference(new Student(CONFIG).parameters(), merged.parameters())).as("it trained").isGreaterThan(1e-3f);
    }

    @Test
    void rowsOneReplicaMovedKeepTheWholeMoveSharedOnesAndDenseLayersTheMean() {
        Replica a = new Replica(trainer());
        Replica b = new Replica(trainer());
        float[][] start = new Student(CONFIG).parameters();
        a.train(batch(1, 2, 5, 6));
        b.train(batch(3, 4, 5, 7));
        float[][] pa = copy(a.trainer().student().parameters());
        float[][] pb = copy(b.trainer().student().parameters());
        ModelDelta da = a.take();
        ModelDelta db = b.take();
        ModelDelta m = ModelDelta.mean(List.of(da, db));
        assertThat(m.records()).isEqualTo(4);
        Student merged = new Student(CONFIG);
        m.applyTo(merged);
        float[] tokens = merged.parameters()[Student.TOKENS];
        int dim = CONFIG.embeddingDim();
        assertThat(tokens[1 * dim]).as("token 1, only a").isCloseTo(pa[0][1 * dim], org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(tokens[3 * dim]).as("token 3, only b").isCloseTo(pb[0][3 * dim], org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(tokens[5 * dim]).as("token 5, both: the mean")
                .isCloseTo((pa[0][5 * dim] + pb[0][5 * dim]) / 2, org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(tokens[20 * dim]).as("untouched").isEqualTo(start[0][20 * dim]);
        int w2 = 4; // parameters(): tokens, bigrams, w1, b1, w2
        assertThat(merged.parameters()[w2][0]).isCloseTo((pa[w2][0] + pb[w2][0]) / 2, org.assertj.core.data.Offset.offset(1e-6f));
        a.adopt(m, da);
        b.adopt(m, db);
        assertThat(maxDifference(a.trainer().student().parameters(), merged.parameters())).isLessThan(1e-6f);
        assertThat(maxDifference(b.trainer().student().parameters(), merged.parameters())).isLessThan(1e-6f);
    }

    @Test
    void adoptingARoundLaterKeepsWhatTheReplicaTrainedSince() {
        Replica a = new Replica(trainer());
        Replica b = new Replica(trainer());
        a.train(batch(1, 2));
        b.train(batch(3, 4));
        ModelDelta da = a.take();
        ModelDelta db = b.take();
        a.train(batch(8, 9)); // trained while the merged round was on its way
        float[][] before = copy(a.trainer().student().parameters());
        ModelDelta m = ModelDelta.mean(List.of(da, db));
        a.adopt(m, da);
        int dim = CONFIG.embeddingDim();
        float[] now = a.trainer().student().parameters()[Student.TOKENS];
        assertThat(now[8 * dim]).as("row 8 moved only since").isEqualTo(before[0][8 * dim]);
        ModelDelta next = a.take();
        assertThat(next.records()).isEqualTo(1);
        assertThat(next.rows()).as("tokens 8 and 9 and their bigram").isEqualTo(3);
    }

    @Test
    void aDeltaWritesAndReadsBackAndSaysItsSize() throws Exception {
        Replica a = new Replica(trainer());
        a.train(batch(1, 2, 3, 4));
        ModelDelta d = a.take();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        d.write(new DataOutputStream(bytes));
        assertThat((long) bytes.size()).isEqualTo(d.bytes());
        ModelDelta read = ModelDelta.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        Student x = new Student(CONFIG);
        Student y = new Student(CONFIG);
        d.applyTo(x);
        read.applyTo(y);
        assertThat(maxDifference(x.parameters(), y.parameters())).isZero();
        assertThatThrownBy(() -> ModelDelta.mean(List.of())).hasMessageContaining("at least one");
    }

    private static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }
}
