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
        assertThat(maxDifference(merged.parameters(), replica.trainer().syncArrays())).isLessThan(1e-5f);
        assertThat(maxDifference(new Student(CONFIG).parameters(), merged.parameters())).as("it trained").isGreaterThan(1e-3f);
    }

    @Test
    void rowsOneReplicaMovedKeepTheWholeMoveSharedOnesAndDenseLayersTheMean() {
        Replica a = new Replica(trainer());
        Replica b = new Replica(trainer());
        float[][] start = new Student(CONFIG).parameters();
        a.train(batch(1, 2, 5, 6));
        b.train(batch(3, 4, 5, 7));
        float[][] pa = copy(a.trainer().syncArrays());
        float[][] pb = copy(b.trainer().syncArrays());
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
        assertThat(maxDifference(a.trainer().syncArrays(), merged.parameters())).isLessThan(1e-6f);
        assertThat(maxDifference(b.trainer().syncArrays(), merged.parameters())).isLessThan(1e-6f);
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
        float[][] before = copy(a.trainer().syncArrays());
        ModelDelta m = ModelDelta.mean(List.of(da, db));
        a.adopt(m, da);
        int dim = CONFIG.embeddingDim();
        float[] now = a.trainer().syncArrays()[Student.TOKENS];
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

    @Test
    void anEightBitMoveIsAboutAQuarterOfTheBytesAndReadsBackBitForBit() throws Exception {
        StudentConfig wide = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(50).embeddingDim(64).bigramBuckets(16)
                .classNames(List.of("a", "b")).seed(3).build();
        TrainingConfig training = TrainingConfig.builder().warmupSteps(0).build();
        Replica full = new Replica(StudentTrainer.create(wide, training));
        Replica eight = new Replica(StudentTrainer.create(wide, training), true);
        List<Example> batch = batch(1, 2, 3, 4, 5, 6, 7, 8);
        full.train(batch);
        eight.train(batch);
        ModelDelta d32 = full.take();
        ModelDelta d8 = eight.take();
        assertThat(d8.isQuantized()).isTrue();
        assertThat(d32.isQuantized()).isFalse();
        // A quarter on the rows; the dense head (here a large share of a small move) stays at 32 bits.
        assertThat((double) d8.bytes() / d32.bytes()).as("bytes at 8 bits / at 32").isBetween(0.25, 0.45);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        d8.write(new DataOutputStream(bytes));
        assertThat((long) bytes.size()).isEqualTo(d8.bytes());
        ModelDelta read = ModelDelta.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertThat(read.isQuantized()).isTrue();
        Student x = new Student(wide);
        Student y = new Student(wide);
        Student z = new Student(wide);
        d8.applyTo(x);
        read.applyTo(y);
        d32.applyTo(z);
        assertThat(maxDifference(x.parameters(), y.parameters())).isZero();
        float largest = maxDifference(new Student(wide).parameters(), z.parameters());
        assertThat(maxDifference(x.parameters(), z.parameters())).as("each value within half a step of its row's scale")
                .isGreaterThan(0f).isLessThanOrEqualTo(largest / 254 + 1e-7f);
    }

    @Test
    void takingAnEightBitMoveInOnePassIsQuantizingTheFullMove() throws Exception {
        StudentTrainer t = trainer();
        float[][] ref = copy(t.student().parameters());
        t.train(batch(1, 2, 3, 4, 5, 6));
        float[][] now = t.student().parameters();
        int[] tokens = {1, 2, 3, 4, 5, 6, 7};
        int[] bigrams = {0, 3, 9};
        ModelDelta slow = ModelDelta.between(now, ref, tokens, bigrams, CONFIG.embeddingDim(), 3).quantized();
        float[][] advanced = copy(ref);
        ModelDelta fast = ModelDelta.takeQuantized(now, advanced, tokens, bigrams, CONFIG.embeddingDim(), 3);
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        slow.write(new DataOutputStream(a));
        fast.write(new DataOutputStream(b));
        assertThat(b.toByteArray()).isEqualTo(a.toByteArray());
        float[][] expected = copy(ref);
        Student moved = new Student(CONFIG);
        System.arraycopy(expected[Student.TOKENS], 0, moved.parameters()[Student.TOKENS], 0, expected[Student.TOKENS].length);
        System.arraycopy(expected[Student.BIGRAMS], 0, moved.parameters()[Student.BIGRAMS], 0, expected[Student.BIGRAMS].length);
        slow.applyTo(moved);
        assertThat(advanced[Student.TOKENS]).as("ref's rows advanced by the move").isEqualTo(moved.parameters()[Student.TOKENS]);
        assertThat(advanced[Student.BIGRAMS]).isEqualTo(moved.parameters()[Student.BIGRAMS]);
    }

    @Test
    void theMeanOfEightBitMovesIsEightBitAndTheSameEachTime() throws Exception {
        Replica a = new Replica(trainer(), true);
        Replica b = new Replica(trainer(), true);
        a.train(batch(1, 2, 5, 6));
        b.train(batch(3, 4, 5, 7));
        List<ModelDelta> moves = List.of(a.take(), b.take());
        ModelDelta m1 = ModelDelta.mean(moves);
        ModelDelta m2 = ModelDelta.mean(moves);
        assertThat(m1.isQuantized()).isTrue();
        ByteArrayOutputStream one = new ByteArrayOutputStream();
        ByteArrayOutputStream two = new ByteArrayOutputStream();
        m1.write(new DataOutputStream(one));
        m2.write(new DataOutputStream(two));
        assertThat(one.toByteArray()).isEqualTo(two.toByteArray());
        assertThat(ModelDelta.mean(List.of(moves.get(0), new Replica(trainer()).take())).isQuantized())
                .as("a mean with a 32-bit move stays at 32 bits").isFalse();
    }

    @Test
    void anEightBitReplicasRoundingErrorGoesWithItsNextMoveInsteadOfPilingUp() {
        Replica replica = new Replica(trainer(), true);
        Student merged = new Student(CONFIG);
        float lastLargest = 0;
        for (int round = 0; round < 30; round++) {
            replica.train(batch(1, 2, 3, 4, 1, 3));
            ModelDelta own = replica.take();
            Student moved = new Student(CONFIG);
            float[][] before = copy(moved.parameters());
            own.applyTo(moved);
            lastLargest = maxDifference(before, moved.parameters());
            ModelDelta m = ModelDelta.mean(List.of(own));
            m.applyTo(merged);
            replica.adopt(m, own);
        }
        // The merged model is the replica's less the last round's rounding, not thirty rounds of it.
        assertThat(maxDifference(merged.parameters(), replica.trainer().syncArrays()))
                .isLessThanOrEqualTo(lastLargest / 254 + 1e-6f);
    }

    private static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }
}
