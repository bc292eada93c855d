package io.streamdistill.student.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.onnx.OnnxImporter;
import io.streamdistill.student.transformer.EncoderParams;
import io.streamdistill.student.transformer.EncoderSpec;
import io.streamdistill.student.transformer.TransformerStudent;
import io.streamdistill.student.transformer.TransformerTrainer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fine-tuning on a synthetic task where the teacher is wrong on part of the input: the labels say
 * "at least 3 of 8 tokens below 300", the teacher says "at least 4 below 500". A student distilled
 * from the teacher, then fine-tuned on labelled rows, beats the teacher on held-out labelled rows;
 * keeping a distillation term on replayed stream records keeps more of its agreement with the teacher.
 */
class FineTunerTest {
    static final int VOCAB = 1000;

    record Row(int[] ids, int truth, float[] teacher) {
    }

    static List<Row> rows(int n, long seed) {
        Rng rng = new Rng(seed);
        List<Row> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] ids = new int[8];
            int below300 = 0;
            int below500 = 0;
            for (int t = 0; t < ids.length; t++) {
                ids[t] = (int) (rng.nextDouble() * VOCAB);
                below300 += ids[t] < 300 ? 1 : 0;
                below500 += ids[t] < 500 ? 1 : 0;
            }
            int teacherClass = below500 >= 4 ? 1 : 0;
            out.add(new Row(ids, below300 >= 3 ? 1 : 0, teacherClass == 1 ? new float[] {-3f, 3f} : new float[] {3f, -3f}));
        }
        return out;
    }

    static Student distilled(List<Row> stream) {
        StudentConfig config = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(VOCAB).embeddingDim(16)
                .classNames(List.of("no", "yes")).seed(3).build();
        StudentTrainer t = StudentTrainer.create(config, TrainingConfig.builder().learningRate(0.05f).build());
        for (int epoch = 0; epoch < 6; epoch++) {
            for (int from = 0; from < stream.size(); from += 32) {
                t.train(stream.subList(from, Math.min(stream.size(), from + 32)).stream()
                        .map(r -> Example.unlabelled(r.ids(), r.teacher())).toList());
            }
        }
        return t.student();
    }

    @Test
    void theFineTunedStudentBeatsTheTeacherOnItsLabelsAndKdKeepsAgreement() {
        List<Row> stream = rows(3000, 1);
        List<Example> replay = stream.stream().map(r -> Example.unlabelled(r.ids(), r.teacher())).toList();
        List<Example> holdout = rows(500, 2).stream().map(r -> Example.unlabelled(r.ids(), r.teacher())).toList();
        List<Row> data = rows(1000, 3);
        List<FineTuner.Labelled> train = data.subList(0, 800).stream().map(r -> new FineTuner.Labelled(r.ids(), r.truth())).toList();
        List<Row> testRows = data.subList(800, 1000);
        List<FineTuner.Labelled> test = testRows.stream().map(r -> new FineTuner.Labelled(r.ids(), r.truth())).toList();
        double teacherAccuracy = testRows.stream().filter(r -> (r.teacher()[1] > 0 ? 1 : 0) == r.truth()).count() / 200.0;

        Student parent = distilled(stream);
        TrainingConfig training = TrainingConfig.builder().learningRate(0.01f).build();
        FineTuner.Result labelsOnly = FineTuner.run(copy(parent), train, test, replay, holdout,
                new FineTuner.Settings(6, 32, 0f, training, 7), line -> { });
        FineTuner.Result withKd = FineTuner.run(copy(parent), train, test, replay, holdout,
                new FineTuner.Settings(6, 32, 0.6f, training, 7), line -> { });

        assertThat(labelsOnly.curve()).hasSize(7);
        assertThat(labelsOnly.before().accuracy()).as("the distilled student inherits the teacher's mistakes")
                .isLessThan(teacherAccuracy + 0.05);
        assertThat(labelsOnly.after().accuracy()).as("fine-tuned on the labels it beats its teacher (%.3f)", teacherAccuracy)
                .isGreaterThan(teacherAccuracy + 0.05);
        assertThat(withKd.after().accuracy()).isGreaterThan(withKd.before().accuracy());
        assertThat(withKd.after().agreement()).as("the KD term keeps agreement with the teacher on the stream")
                .isGreaterThan(labelsOnly.after().agreement());
        assertThat(labelsOnly.before().agreement()).isEqualTo(withKd.before().agreement());
    }

    /**
     * A transformer student fine-tunes from its published file as a bag does: read back with fresh optimiser
     * state, it starts with its teacher's mistakes and learns the labels past them.
     */
    @Test
    void aTransformerStudentReadFromItsFileFineTunesPastItsTeacher() {
        List<Row> stream = rows(3000, 1);
        List<Row> data = rows(1000, 3);
        List<FineTuner.Labelled> train = data.subList(0, 800).stream().map(r -> new FineTuner.Labelled(r.ids(), r.truth())).toList();
        List<Row> testRows = data.subList(800, 1000);
        List<FineTuner.Labelled> test = testRows.stream().map(r -> new FineTuner.Labelled(r.ids(), r.truth())).toList();
        List<Example> holdout = rows(300, 2).stream().map(r -> Example.unlabelled(r.ids(), r.teacher())).toList();
        double teacherAccuracy = testRows.stream().filter(r -> (r.teacher()[1] > 0 ? 1 : 0) == r.truth()).count() / 200.0;

        EncoderSpec spec = new EncoderSpec(VOCAB, 16, 1, 2, 32, 8, 0, 1e-12f, EncoderSpec.Pooling.MEAN);
        TransformerTrainer distilled = new TransformerTrainer(new TransformerStudent(Task.CLASSIFICATION, List.of("no", "yes"), 2,
                EncoderParams.random(spec, 5)).initHead(6), TrainingConfig.builder().learningRate(0.01f).warmupSteps(20).build(),
                Gemm.REFERENCE);
        for (int epoch = 0; epoch < 4; epoch++) {
            for (int from = 0; from < stream.size(); from += 32) {
                distilled.train(stream.subList(from, Math.min(stream.size(), from + 32)).stream()
                        .map(r -> Example.unlabelled(r.ids(), r.teacher())).toList());
            }
        }
        Learner parent = OnnxImporter.readLearner(distilled.exportOnnx(new OnnxExporter.Metadata("tok", 1)),
                TrainingConfig.defaults(), Gemm.REFERENCE);
        FineTuner.Result tuned = FineTuner.run(parent, train, test, List.of(), holdout,
                new FineTuner.Settings(8, 32, 0f, TrainingConfig.builder().learningRate(0.01f).build(), 7), line -> { });

        System.out.printf("transformer fine-tune: teacher accuracy %.3f; student %.3f before, %.3f after (agreement %.3f before)%n",
                teacherAccuracy, tuned.before().accuracy(), tuned.after().accuracy(), tuned.before().agreement());
        assertThat(tuned.trainer().architecture()).isEqualTo("transformer");
        assertThat(parent.step()).as("the parent is left as it was").isZero();
        assertThat(tuned.before().agreement()).as("the file is the distilled student").isGreaterThan(0.8);
        assertThat(tuned.before().accuracy()).as("the distilled student inherits the teacher's mistakes")
                .isLessThan(teacherAccuracy + 0.05);
        assertThat(tuned.after().accuracy()).as("fine-tuned on the labels it beats its teacher (%.3f)", teacherAccuracy)
                .isGreaterThan(teacherAccuracy + 0.05);
    }

    @Test
    void settingsAreValidated() {
        TrainingConfig t = TrainingConfig.defaults();
        assertThatThrownBy(() -> new FineTuner.Settings(0, 32, 0f, t, 1)).hasMessageContaining("--epochs must be in 1..1000, got 0");
        assertThatThrownBy(() -> new FineTuner.Settings(1, 32, 1f, t, 1)).hasMessageContaining("--keep-teacher must be in [0, 1), got 1.0");
        Learner s = copy(distilled(rows(64, 1)));
        List<FineTuner.Labelled> one = List.of(new FineTuner.Labelled(new int[] {1, 2}, 0));
        assertThatThrownBy(() -> FineTuner.run(s, one, one, List.of(), List.of(), new FineTuner.Settings(1, 32, 0.5f, t, 1), l -> { }))
                .hasMessageContaining("needs soft targets to replay");
    }

    private static Learner copy(Student s) {
        return StudentTrainer.create(s, TrainingConfig.defaults()).withTraining(TrainingConfig.defaults());
    }
}
