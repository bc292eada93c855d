package io.streamdistill.student.train;

import io.streamdistill.student.loss.DistillationLoss;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Continues a published classification student on labelled rows: cross-entropy on the labels and,
 * with weight {@code keepTeacher}, the distillation loss on soft targets replayed from the stream, so
 * the student learns the task without forgetting the traffic it was distilled on. Each step mixes one
 * batch of labelled rows with as many replayed records; the loss is
 * {@code (1 - A) CE(labelled) + A T^2 KL(replayed)}. Scores are taken before the first epoch and after
 * each: accuracy and macro-F1 on the labelled test split, agreement with the teacher on the stream's
 * holdout records (never trained on, by the live trainer or here).
 *
 * <p>Adam starts from zero moments: the ONNX file has none, and the live job's moments belong to
 * another objective (the stream's KD loss) and another point in training; fresh moments with bias
 * correction make the first steps exactly {@code learningRate} in size, which the default rate is
 * chosen for (docs/student-trainer.md, "Fine-tuning").
 */
public final class FineTuner {
    /** A labelled row as the student sees it. */
    public record Labelled(int[] tokens, int label) {
    }

    /**
     * @param keepTeacher the KD weight A in [0, 1): 0 trains on the labels alone
     * @param training    Adam's rate and the rest; its alpha is ignored (labelled rows are pure CE here)
     */
    public record Settings(int epochs, int batchSize, float keepTeacher, TrainingConfig training, long seed) {
        public Settings {
            if (epochs < 1 || epochs > 1000) {
                throw new IllegalArgumentException("--epochs must be in 1..1000, got " + epochs);
            }
            if (batchSize < 1 || batchSize > 4096) {
                throw new IllegalArgumentException("batch size must be in 1..4096, got " + batchSize);
            }
            if (!(keepTeacher >= 0 && keepTeacher < 1)) {
                throw new IllegalArgumentException("--keep-teacher must be in [0, 1), got " + keepTeacher);
            }
        }
    }

    /** Scores after an epoch (epoch 0: the parent, before any fine-tuning). */
    public record Epoch(int epoch, double trainLoss, double accuracy, double macroF1, double agreement, long steps) {
    }

    public record Result(Learner trainer, List<Epoch> curve) {
        public Epoch before() {
            return curve.get(0);
        }

        public Epoch after() {
            return curve.get(curve.size() - 1);
        }
    }

    /**
     * @param parent  the published student as its file reads back ({@link io.streamdistill.student.onnx.OnnxImporter#readLearner}):
     *                any architecture; its optimiser state is kept, so give it fresh (as the file gives it)
     * @param replay  soft targets to keep distilling on (may be empty when A is 0)
     * @param holdout stream records held out, scored for agreement (may be empty: agreement is then NaN)
     */
    public static Result run(Learner parent, List<Labelled> train, List<Labelled> test, List<Example> replay, List<Example> holdout,
                             Settings s, Consumer<String> progress) {
        if (train.isEmpty() || test.isEmpty()) {
            throw new IllegalArgumentException("fine-tuning needs labelled rows to train on and to test on, got " + train.size()
                    + " and " + test.size());
        }
        if (s.keepTeacher() > 0 && replay.isEmpty()) {
            throw new IllegalArgumentException("--keep-teacher " + s.keepTeacher() + " needs soft targets to replay, and the stream"
                    + " has none outside its holdout");
        }
        if (parent.task() != io.streamdistill.student.model.Task.CLASSIFICATION) {
            throw new IllegalArgumentException("fine-tuning trains a classification student on labels; this one is "
                    + parent.task());
        }
        int k = parent.outputDim();
        TrainingConfig training = TrainingConfig.builder().temperature(s.training().temperature()).alpha(0f)
                .learningRate(s.training().learningRate()).beta1(s.training().beta1()).beta2(s.training().beta2())
                .epsilon(s.training().epsilon()).warmupSteps(s.training().warmupSteps()).clipNorm(s.training().clipNorm())
                .tokenDropout(s.training().tokenDropout()).build();
        Learner trainer = parent.withTraining(training);
        float[] uniform = new float[k]; // a labelled row's teacher output: unused, alpha is 0
        List<Example> labelled = new ArrayList<>();
        for (Labelled l : train) {
            labelled.add(new Example(l.tokens(), uniform, l.label(), 1 - s.keepTeacher()));
        }
        List<Example> kd = new ArrayList<>();
        for (Example e : replay) {
            kd.add(new Example(e.tokenIds(), e.teacher(), -1, Math.max(s.keepTeacher(), Float.MIN_NORMAL)));
        }
        Rng rng = new Rng(s.seed());
        List<Epoch> curve = new ArrayList<>();
        curve.add(score(trainer, 0, Double.NaN, test, holdout, k));
        progress.accept(describe(curve.get(0)));
        int kdNext = 0;
        shuffle(kd, rng);
        for (int epoch = 1; epoch <= s.epochs(); epoch++) {
            shuffle(labelled, rng);
            double loss = 0;
            int batches = 0;
            for (int from = 0; from < labelled.size(); from += s.batchSize()) {
                List<Example> batch = new ArrayList<>(labelled.subList(from, Math.min(labelled.size(), from + s.batchSize())));
                if (s.keepTeacher() > 0) {
                    int n = batch.size();
                    for (int i = 0; i < n; i++) {
                        if (kdNext == kd.size()) {
                            kdNext = 0;
                            shuffle(kd, rng);
                        }
                        batch.add(kd.get(kdNext++));
                    }
                }
                loss += trainer.train(batch).meanLoss();
                batches++;
            }
            curve.add(score(trainer, epoch, loss / batches, test, holdout, k));
            progress.accept(describe(curve.get(curve.size() - 1)));
        }
        return new Result(trainer, List.copyOf(curve));
    }

    private static String describe(Epoch e) {
        return String.format("  epoch %d: %stest accuracy %.4f, macro-F1 %.4f, stream agreement %.4f", e.epoch(),
                e.epoch() == 0 ? "(the parent) " : String.format("train loss %.4f, ", e.trainLoss()), e.accuracy(), e.macroF1(),
                e.agreement());
    }

    static Epoch score(Learner trainer, int epoch, double loss, List<Labelled> test, List<Example> holdout, int k) {
        int[] predicted = new int[test.size()];
        int[] truth = new int[test.size()];
        for (int i = 0; i < test.size(); i++) {
            predicted[i] = DistillationLoss.argmax(trainer.predict(test.get(i).tokens()));
            truth[i] = test.get(i).label();
        }
        double agree = 0;
        for (Example e : holdout) {
            agree += DistillationLoss.argmax(trainer.predict(e.tokenIds())) == DistillationLoss.argmax(e.teacher()) ? 1 : 0;
        }
        return new Epoch(epoch, loss, accuracy(predicted, truth), macroF1(predicted, truth, k),
                holdout.isEmpty() ? Double.NaN : agree / holdout.size(), trainer.step());
    }

    static double accuracy(int[] predicted, int[] truth) {
        int correct = 0;
        for (int i = 0; i < truth.length; i++) {
            correct += predicted[i] == truth[i] ? 1 : 0;
        }
        return truth.length == 0 ? Double.NaN : correct / (double) truth.length;
    }

    /** Mean F1 over the classes that occur in the truth or the predictions. */
    public static double macroF1(int[] predicted, int[] truth, int k) {
        int[] tp = new int[k];
        int[] pred = new int[k];
        int[] support = new int[k];
        for (int i = 0; i < truth.length; i++) {
            pred[predicted[i]]++;
            support[truth[i]]++;
            if (predicted[i] == truth[i]) {
                tp[truth[i]]++;
            }
        }
        double sum = 0;
        int classes = 0;
        for (int c = 0; c < k; c++) {
            if (support[c] == 0 && pred[c] == 0) {
                continue;
            }
            classes++;
            double p = pred[c] == 0 ? 0 : tp[c] / (double) pred[c];
            double r = support[c] == 0 ? 0 : tp[c] / (double) support[c];
            sum += p + r == 0 ? 0 : 2 * p * r / (p + r);
        }
        return classes == 0 ? Double.NaN : sum / classes;
    }

    private static <T> void shuffle(List<T> list, Rng rng) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = (int) Math.floorMod(rng.nextLong(), (long) (i + 1));
            T t = list.get(i);
            list.set(i, list.get(j));
            list.set(j, t);
        }
    }

    private FineTuner() {
    }
}
