package io.streamdistill.student.init;

import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import io.streamdistill.student.transformer.TransformerStudent;
import io.streamdistill.student.transformer.TransformerTrainer;
import java.util.List;

/**
 * A task's student started from a general-distilled one ({@link GeneralStudent}): the token table or
 * the encoder as general distillation left them. For an embedding task of the same width that is the
 * whole student. For classification the general student's map to the teacher's space (P, b) is
 * composed with the teacher's head (H, c): {@code W = H·P / r, bias = H·b / r + c}, where r is the
 * typical length of the general student's outputs when the teacher's head reads unit vectors (1
 * otherwise), so the student answers before any task record as the general student and the teacher's
 * head allow. Without the teacher's head, the head starts random. The optimiser starts afresh.
 */
public final class GeneralStart {
    private GeneralStart() {
    }

    /**
     * @param config   the task's student (task, classes, output width; for the bag its table width must be the general one's)
     * @param head     the teacher's head for classification, or null for a random head
     */
    public static Learner forTask(GeneralStudent general, StudentConfig config, TrainingConfig training, WarmStart.TeacherHead head,
                                  Gemm gemm) {
        Learner g = general.learner();
        if (g.task() != Task.EMBEDDING) {
            throw new IllegalArgumentException("a general student is an embedding student; this one is " + g.task());
        }
        if (config.task() == Task.EMBEDDING) {
            if (config.outputDim() != g.outputDim()) {
                throw new IllegalArgumentException("student.output.dim is " + config.outputDim() + "; the general student's outputs have "
                        + g.outputDim() + " dimensions (its teacher's)");
            }
            return g.withTraining(training);
        }
        if (head != null) {
            if (!head.classes().equals(config.classNames())) {
                throw new IllegalArgumentException("the teacher head's classes " + head.classes() + " are not the student's "
                        + config.classNames());
            }
            if (head.weights()[0].length != g.outputDim()) {
                throw new IllegalArgumentException("the teacher head reads " + head.weights()[0].length + " dimensions; the general"
                        + " student's outputs have " + g.outputDim());
            }
        }
        float r = head != null && head.unitInput() ? general.outputNorm() : 1f;
        if (g instanceof StudentTrainer bag) {
            return StudentTrainer.create(bag(bag.student(), config, head, r), training);
        }
        if (g instanceof TransformerTrainer t) {
            return new TransformerTrainer(transformer(t.student(), config, head, r), training, gemm);
        }
        throw new IllegalArgumentException("no general start for a " + g.architecture() + " student");
    }

    private static Student bag(Student general, StudentConfig config, WarmStart.TeacherHead head, float r) {
        StudentConfig gc = general.config();
        if (gc.hiddenDim() != 0) {
            throw new IllegalArgumentException("a general bag student with a hidden layer cannot start a task's student");
        }
        if (config.embeddingDim() != gc.embeddingDim() || config.vocabSize() != gc.vocabSize()
                || config.bigramBuckets() != gc.bigramBuckets() || config.hiddenDim() != 0) {
            throw new IllegalArgumentException("the general student is a bag of " + gc.vocabSize() + " x " + gc.embeddingDim()
                    + " with " + gc.bigramBuckets() + " bigram buckets and no hidden layer; the task's student is " + config.vocabSize()
                    + " x " + config.embeddingDim() + " with " + config.bigramBuckets() + " and hidden " + config.hiddenDim()
                    + ": set student.embedding.dim, student.bigram.buckets and student.hidden.dim to match");
        }
        Student s = new Student(config);
        float[][] p = s.parameters();
        float[][] gp = general.parameters();
        System.arraycopy(gp[Student.TOKENS], 0, p[Student.TOKENS], 0, gp[Student.TOKENS].length);
        System.arraycopy(gp[Student.BIGRAMS], 0, p[Student.BIGRAMS], 0, gp[Student.BIGRAMS].length);
        if (head == null) {
            return s;
        }
        int d = gc.embeddingDim();
        int m = general.config().outputDim();
        float[] map = gp[4];   // [m][d]
        float[] offset = gp[5];
        float[] w = p[4];      // [classes][d]
        float[] b = p[5];
        for (int c = 0; c < head.classes().size(); c++) {
            float[] hc = head.weights()[c];
            for (int k = 0; k < d; k++) {
                double sum = 0;
                for (int j = 0; j < m; j++) {
                    sum += (double) hc[j] * map[j * d + k];
                }
                w[c * d + k] = (float) (sum / r);
            }
            b[c] = (float) (dot(hc, offset) / r + head.bias()[c]);
        }
        return s;
    }

    private static TransformerStudent transformer(TransformerStudent general, StudentConfig config, WarmStart.TeacherHead head,
                                                  float r) {
        if (config.vocabSize() != general.encoder().spec().vocab()) {
            throw new IllegalArgumentException("the general student reads " + general.encoder().spec().vocab() + " token ids; the"
                    + " task's tokenizer has " + config.vocabSize());
        }
        TransformerStudent s = new TransformerStudent(config.task(), config.classNames(), config.outputDim(), general.encoder(),
                general.unitPooled());
        if (head == null) {
            return s.initHead(config.seed() + 1);
        }
        int width = general.encoder().spec().width();
        int m = general.outputs();
        float[] map = general.headWeight(); // [width][m]
        float[] offset = general.headBias();
        float[][] w = new float[head.classes().size()][width];
        float[] b = new float[head.classes().size()];
        for (int c = 0; c < w.length; c++) {
            float[] hc = head.weights()[c];
            for (int j = 0; j < width; j++) {
                double sum = 0;
                for (int i = 0; i < m; i++) {
                    sum += (double) hc[i] * map[j * m + i];
                }
                w[c][j] = (float) (sum / r);
            }
            b[c] = (float) (dot(hc, offset) / r + head.bias()[c]);
        }
        return s.headFrom(w, b);
    }

    /** The mean length of a student's raw outputs (before unit scaling) over some texts: r above. */
    public static float outputNorm(Learner learner, List<int[]> texts) {
        if (texts.isEmpty()) {
            return 1f;
        }
        double sum = 0;
        if (learner instanceof TransformerTrainer t) {
            for (float[] row : t.rawOutputs(texts.toArray(int[][]::new))) {
                sum += Math.sqrt(dot(row, row));
            }
        } else if (learner instanceof StudentTrainer bag) {
            Student.Activations a = new Student.Activations(bag.config());
            for (int[] ids : texts) {
                bag.student().forward(ids, null, a);
                sum += Math.sqrt(dot(a.out, a.out));
            }
        } else {
            throw new IllegalArgumentException("no output length for a " + learner.architecture() + " student");
        }
        return (float) (sum / texts.size());
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
}
