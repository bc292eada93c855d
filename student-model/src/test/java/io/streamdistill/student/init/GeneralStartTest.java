package io.streamdistill.student.init;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamdistill.student.math.Kernels;
import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import io.streamdistill.student.transformer.EncoderParams;
import io.streamdistill.student.transformer.EncoderSpec;
import io.streamdistill.student.transformer.TransformerStudent;
import io.streamdistill.student.transformer.TransformerTrainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A task's student from a general one: the composed head answers exactly as the teacher's head would
 * on the general student's outputs (scaled by their typical length for a head on unit vectors), for
 * the bag and the transformer; the file keeps what it holds.
 */
class GeneralStartTest {
    private static final int VOCAB = 50;
    private static final int TEACHER_DIM = 6;
    private static final List<String> CLASSES = List.of("a", "b", "c");
    private static final int[][] TEXTS = {{1, 5, 9, 2}, {3, 3, 40}, {7}, {11, 12, 13, 14, 15, 16}};

    @Test
    void theBagsComposedHeadIsTheTeachersHeadOnTheGeneralStudentsOutputs() {
        StudentTrainer general = trained(StudentTrainer.create(bagConfig(Task.EMBEDDING), TrainingConfig.defaults()));
        for (boolean unit : new boolean[] {false, true}) {
            WarmStart.TeacherHead head = head(unit);
            float r = GeneralStart.outputNorm(general, List.of(TEXTS));
            Learner task = GeneralStart.forTask(new GeneralStudent(general, r, Map.of()), bagConfig(Task.CLASSIFICATION),
                    TrainingConfig.defaults(), head, Kernels.plain());
            Student.Activations g = new Student.Activations(general.config());
            Student.Activations t = new Student.Activations(((StudentTrainer) task).config());
            for (int[] ids : TEXTS) {
                general.student().forward(ids, null, g);
                ((StudentTrainer) task).student().forward(ids, null, t);
                assertThat(t.out).as("unit input %s", unit).usingElementComparator((x, y) -> Math.abs(x - y) < 1e-4f ? 0 : 1)
                        .containsExactly(expected(head, g.out, unit ? r : 1f));
            }
        }
    }

    @Test
    void theTransformersComposedHeadIsTheTeachersHeadOnTheGeneralStudentsOutputs() {
        TransformerTrainer general = trained(new TransformerTrainer(new TransformerStudent(Task.EMBEDDING, List.of(), TEACHER_DIM,
                EncoderParams.random(new EncoderSpec(VOCAB, 8, 1, 2, 16, 16, 0, 1e-12f, EncoderSpec.Pooling.MEAN), 3)).initHead(4),
                TrainingConfig.defaults(), Kernels.plain()));
        WarmStart.TeacherHead head = head(true);
        float r = GeneralStart.outputNorm(general, List.of(TEXTS));
        assertThat(r).isPositive();
        TransformerTrainer task = (TransformerTrainer) GeneralStart.forTask(new GeneralStudent(general, r, Map.of()),
                bagConfig(Task.CLASSIFICATION), TrainingConfig.defaults(), head, Kernels.plain());
        float[][] g = general.rawOutputs(TEXTS);
        float[][] t = task.rawOutputs(TEXTS);
        for (int i = 0; i < TEXTS.length; i++) {
            float[] want = expected(head, g[i], r);
            for (int c = 0; c < CLASSES.size(); c++) {
                assertThat(t[i][c]).isCloseTo(want[c], within(1e-4f));
            }
        }
        assertThat(task.student().encoder()).as("the encoder as general distillation left it").isSameAs(general.student().encoder());
    }

    @Test
    void anEmbeddingTaskOfTheSameWidthIsTheGeneralStudentAndAWrongWidthIsNamed() {
        StudentTrainer general = trained(StudentTrainer.create(bagConfig(Task.EMBEDDING), TrainingConfig.defaults()));
        Learner same = GeneralStart.forTask(new GeneralStudent(general, 1f, Map.of()), bagConfig(Task.EMBEDDING), TrainingConfig.defaults(),
                null, Kernels.plain());
        assertThat(same.predict(TEXTS[0])).containsExactly(general.predict(TEXTS[0]));
        StudentConfig wider = StudentConfig.builder().task(Task.EMBEDDING).vocabSize(VOCAB).embeddingDim(8).outputDim(12).build();
        assertThatThrownBy(() -> GeneralStart.forTask(new GeneralStudent(general, 1f, Map.of()), wider, TrainingConfig.defaults(), null,
                Kernels.plain())).hasMessageContaining("student.output.dim is 12; the general student's outputs have 6");
        StudentConfig otherTable = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(VOCAB).embeddingDim(16).outputDim(3)
                .classNames(CLASSES).build();
        assertThatThrownBy(() -> GeneralStart.forTask(new GeneralStudent(general, 1f, Map.of()), otherTable, TrainingConfig.defaults(),
                head(true), Kernels.plain())).hasMessageContaining("set student.embedding.dim");
    }

    @Test
    void theFileKeepsTheStudentItsOutputLengthAndWhatItWasMadeFrom(@TempDir Path dir) throws Exception {
        StudentTrainer general = trained(StudentTrainer.create(bagConfig(Task.EMBEDDING), TrainingConfig.defaults()));
        Path file = dir.resolve("general.sdgeneral");
        new GeneralStudent(general, 2.5f, Map.of("teacher", "t", "sentences", "4")).write(file);
        GeneralStudent back = GeneralStudent.read(file, Kernels.plain());
        assertThat(back.outputNorm()).isEqualTo(2.5f);
        assertThat(back.info()).containsEntry("teacher", "t").containsEntry("sentences", "4");
        assertThat(back.learner().predict(TEXTS[1])).containsExactly(general.predict(TEXTS[1]));
        assertThat(back.learner().step()).isEqualTo(general.step());
        java.nio.file.Files.write(dir.resolve("other"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        assertThatThrownBy(() -> GeneralStudent.read(dir.resolve("other"), Kernels.plain())).hasMessageContaining("is not a general student");
        assertThatThrownBy(() -> GeneralStudent.read(dir.resolve("missing"), Kernels.plain())).hasMessageContaining("distill-general");
    }

    private static StudentConfig bagConfig(Task task) {
        StudentConfig.Builder b = StudentConfig.builder().task(task).vocabSize(VOCAB).embeddingDim(8).seed(7);
        return task == Task.EMBEDDING ? b.outputDim(TEACHER_DIM).build() : b.outputDim(CLASSES.size()).classNames(CLASSES).build();
    }

    /** A few steps towards random unit targets, so that the general student is not its initial state. */
    private static <L extends Learner> L trained(L learner) {
        Random rng = new Random(5);
        for (int step = 0; step < 5; step++) {
            List<Example> batch = new ArrayList<>();
            for (int[] ids : TEXTS) {
                float[] t = new float[TEACHER_DIM];
                double n = 0;
                for (int j = 0; j < t.length; j++) {
                    t[j] = (float) rng.nextGaussian();
                    n += t[j] * t[j];
                }
                for (int j = 0; j < t.length; j++) {
                    t[j] /= (float) Math.sqrt(n);
                }
                batch.add(Example.unlabelled(ids, t));
            }
            learner.train(batch);
        }
        return learner;
    }

    private static WarmStart.TeacherHead head(boolean unit) {
        Random rng = new Random(9);
        float[][] w = new float[CLASSES.size()][TEACHER_DIM];
        float[] b = new float[CLASSES.size()];
        for (int c = 0; c < w.length; c++) {
            for (int j = 0; j < TEACHER_DIM; j++) {
                w[c][j] = (float) rng.nextGaussian();
            }
            b[c] = (float) rng.nextGaussian();
        }
        return new WarmStart.TeacherHead(CLASSES, w, b, unit);
    }

    private static float[] expected(WarmStart.TeacherHead head, float[] generalOut, float r) {
        float[] out = new float[CLASSES.size()];
        for (int c = 0; c < out.length; c++) {
            double s = 0;
            for (int j = 0; j < TEACHER_DIM; j++) {
                s += head.weights()[c][j] * generalOut[j];
            }
            out[c] = (float) (s / r + head.bias()[c]);
        }
        return out;
    }
}
