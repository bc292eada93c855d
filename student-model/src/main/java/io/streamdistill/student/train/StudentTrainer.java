package io.streamdistill.student.train;

import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.model.Gradients;
import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A student plus everything needed to keep training it: the configs, Adam's moments, the step
 * count and the random state. {@link #toBytes()} captures all of it, so training after
 * {@link #fromBytes(byte[])} is bit-identical to training without the round trip. Not
 * thread-safe: one trainer per thread (a Flink operator instance).
 */
public final class StudentTrainer implements Learner {
    /** Version of the {@link #toBytes()} format; bumped on any change to it. */
    /** Version 2 added feature distillation's projection (two arrays after the head); version 1 states still load. */
    public static final int STATE_FORMAT_VERSION = 2;
    private static final int MAGIC = 0x53445354; // "SDST"

    private final StudentConfig config;
    private final TrainingConfig training;
    private final Student student;
    private final Adam adam;
    private final Rng rng;
    private long step;

    private final Gradients gradients;
    private final Student.Activations activations;
    private final float[] gradPrediction;
    private final float[] gradOut;
    private final float[] gradFeatureUnit;
    private final float[] gradFeature;

    private StudentTrainer(StudentConfig config, TrainingConfig training, Student student, Adam adam, Rng rng, long step) {
        this.config = config;
        this.training = training;
        this.student = student;
        this.adam = adam;
        this.rng = rng;
        this.step = step;
        this.gradients = new Gradients(config);
        this.activations = new Student.Activations(config);
        this.gradPrediction = new float[config.outputDim()];
        this.gradOut = new float[config.outputDim()];
        this.gradFeatureUnit = new float[config.featureDim()];
        this.gradFeature = new float[config.featureDim()];
    }

    /** A fresh student initialised from {@code config.seed()}. */
    public static StudentTrainer create(StudentConfig config, TrainingConfig training) {
        Student student = new Student(config);
        // A separate stream for training-time randomness (token dropout), also from the seed.
        return new StudentTrainer(config, training, student, new Adam(student), new Rng(~config.seed()), 0);
    }

    /** A trainer for a student whose parameters were set already (a warm start); Adam starts from zero moments. */
    public static StudentTrainer create(Student student, TrainingConfig training) {
        StudentConfig config = student.config();
        return new StudentTrainer(config, training, student, new Adam(student), new Rng(~config.seed()), 0);
    }

    public StudentConfig config() {
        return config;
    }

    @Override
    public String architecture() {
        return "bag";
    }

    @Override
    public Task task() {
        return config.task();
    }

    @Override
    public List<String> classNames() {
        return config.classNames();
    }

    @Override
    public int outputDim() {
        return config.outputDim();
    }

    @Override
    public String describe() {
        return config.describe();
    }

    @Override
    public long parameterCount() {
        return config.parameterCount();
    }

    @Override
    public byte[] exportOnnx(io.streamdistill.student.onnx.OnnxExporter.Metadata metadata) {
        return io.streamdistill.student.onnx.OnnxExporter.export(student, metadata);
    }

    @Override
    public float[][] syncArrays() {
        return student.parameters();
    }

    @Override
    public int syncRowWidth() {
        return config.embeddingDim();
    }

    @Override
    public int bigramBuckets() {
        return config.bigramBuckets();
    }

    @Override
    public TrainingConfig training() {
        return training;
    }

    public Student student() {
        return student;
    }

    @Override
    public long step() {
        return step;
    }

    /**
     * One optimiser step on the batch: the loss is the weighted mean over its examples (each example's
     * share is its weight over the batch's total; all weights 1 is the plain mean). Returns the batch's
     * weighted loss and plain agreement before the update.
     */
    @Override
    public BatchResult train(List<Example> batch) {
        if (batch.isEmpty()) {
            throw new IllegalArgumentException("cannot train on an empty batch");
        }
        gradients.clear();
        double totalWeight = 0;
        for (Example e : batch) {
            totalWeight += e.weight();
        }
        double lossSum = 0;
        double agreementSum = 0;
        double klSum = 0;
        boolean[] keep = null;
        for (Example e : batch) {
            if (training.tokenDropout() > 0) {
                keep = dropout(e.tokenIds().length, keep);
            }
            float share = (float) (e.weight() / totalWeight);
            student.forward(e.tokenIds(), keep, activations);
            float loss = lossAndGradient(e);
            boolean feature = featureLossAndGradient(e);
            if (feature) {
                loss += featureLoss;
            }
            lossSum += share * loss;
            agreementSum += agreement(e);
            if (config.task() == Task.CLASSIFICATION) {
                klSum += DistillationLoss.klDivergence(activations.out, e.teacher(), training.temperature());
            }
            student.backward(activations, gradOut, share, gradients, feature ? gradFeature : null);
        }
        step++;
        float norm = (float) Math.sqrt(gradients.squaredNorm());
        float clip = training.clipNorm() > 0 && norm > training.clipNorm() ? training.clipNorm() / norm : 1f;
        float lr = training.learningRateAt(step);
        adam.apply(student, gradients, training, step, lr, clip);
        return new BatchResult(step, (float) lossSum, (float) (agreementSum / batch.size()),
                config.task() == Task.CLASSIFICATION ? (float) (klSum / batch.size()) : Float.NaN, norm, lr);
    }

    /** Scores one example without training on it (progressive validation, holdout). */
    @Override
    public Evaluation evaluate(Example e) {
        student.forward(e.tokenIds(), null, activations);
        float loss = lossAndGradient(e);
        float agreement = agreement(e);
        if (config.task() == Task.CLASSIFICATION) {
            float kl = DistillationLoss.klDivergence(activations.out, e.teacher(), training.temperature());
            float correct = e.label() < 0 ? Float.NaN : DistillationLoss.argmax(activations.out) == e.label() ? 1f : 0f;
            return new Evaluation(loss, agreement, kl, correct);
        }
        return new Evaluation(loss, agreement, 0f, Float.NaN);
    }

    /** The model's output for one text: probabilities (classification) or the unit embedding. */
    @Override
    public float[] predict(int[] tokenIds) {
        student.forward(tokenIds, null, activations);
        return activations.prediction.clone();
    }

    private float lossAndGradient(Example e) {
        if (config.task() == Task.CLASSIFICATION) {
            return DistillationLoss.classification(activations.out, e.teacher(), e.label(), training.temperature(),
                    training.alpha(), gradOut);
        }
        float loss = DistillationLoss.embedding(activations.prediction, e.teacher(), training.embeddingLoss(), gradPrediction);
        Student.backThroughNormalisation(activations, gradPrediction, gradOut);
        return loss;
    }

    private float agreement(Example e) {
        if (config.task() == Task.CLASSIFICATION) {
            return DistillationLoss.argmax(activations.out) == DistillationLoss.argmax(e.teacher()) ? 1f : 0f;
        }
        return DistillationLoss.cosine(activations.prediction, e.teacher());
    }

    private float featureLoss;

    /**
     * Feature distillation for an example that carries the teacher's embedding:
     * {@code β (1 - cos(P pooled + q, t))} into {@link #featureLoss}, its gradient into {@link #gradFeature}.
     */
    private boolean featureLossAndGradient(Example e) {
        if (e.features() == null || training.featureBeta() == 0f || config.featureDim() == 0) {
            return false;
        }
        if (e.features().length != config.featureDim()) {
            throw new IllegalArgumentException("the teacher embedding has " + e.features().length + " dimensions; the student's"
                    + " feature projection " + config.featureDim());
        }
        student.featureForward(activations);
        float beta = training.featureBeta();
        featureLoss = beta * DistillationLoss.embedding(activations.featureUnit, e.features(), io.streamdistill.student.loss.EmbeddingLoss.COSINE,
                gradFeatureUnit);
        for (int j = 0; j < gradFeatureUnit.length; j++) {
            gradFeatureUnit[j] *= beta;
        }
        Student.backThroughFeatureNormalisation(activations, gradFeatureUnit, gradFeature);
        return true;
    }

    private boolean[] dropout(int n, boolean[] reuse) {
        boolean[] keep = reuse != null && reuse.length >= n ? reuse : new boolean[Math.max(n, 16)];
        boolean any = false;
        for (int i = 0; i < n; i++) {
            keep[i] = rng.nextDouble() >= training.tokenDropout();
            any |= keep[i];
        }
        if (!any && n > 0) {
            keep[(int) Math.floorMod(rng.nextLong(), (long) n)] = true;
        }
        return keep;
    }

    /** The whole trainer as bytes: format version, configs, step, random state, parameters, Adam moments. */
    @Override
    public byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(estimateBytes());
        try {
            writeTo(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Writes {@link #toBytes()}'s format to {@code stream} without building it in memory first (a
     * checkpoint streams tens of MB); the stream is flushed, not closed.
     */
    @Override
    public void writeTo(java.io.OutputStream stream) throws IOException {
        DataOutputStream out = new DataOutputStream(stream);
        out.writeInt(MAGIC);
        out.writeInt(STATE_FORMAT_VERSION);
        writeMap(out, config.toMap());
        writeMap(out, training.toMap());
        out.writeLong(step);
        out.writeLong(rng.state());
        float[][] params = student.parameters();
        for (int i = 0; i < params.length; i++) {
            FloatArrays.write(out, params[i]);
            FloatArrays.write(out, adam.m[i]);
            FloatArrays.write(out, adam.v[i]);
        }
        out.flush();
    }

    /**
     * Restores a trainer written by {@link #toBytes()}.
     *
     * @throws IllegalArgumentException when the bytes are not a trainer state, or of another format version
     */
    public static StudentTrainer fromBytes(byte[] state) {
        if (state.length < 8 || java.nio.ByteBuffer.wrap(state).getInt() != MAGIC) {
            throw new IllegalArgumentException("these " + state.length + " bytes are not a StreamDistill trainer state");
        }
        return readFrom(new ByteArrayInputStream(state));
    }

    /**
     * Reads a trainer that {@link #writeTo} wrote, leaving the stream just after it.
     *
     * @throws IllegalArgumentException when the stream holds no trainer state, or one of another format version
     */
    public static StudentTrainer readFrom(java.io.InputStream stream) {
        try {
            DataInputStream in = new DataInputStream(stream);
            if (in.readInt() != MAGIC) {
                throw new IllegalArgumentException("these bytes are not a StreamDistill trainer state");
            }
            int version = in.readInt();
            if (version != STATE_FORMAT_VERSION && version != 1) {
                throw new IllegalArgumentException("trainer state format version " + version + " is not supported (this build reads "
                        + STATE_FORMAT_VERSION + ")");
            }
            StudentConfig config = StudentConfig.fromMap(readMap(in));
            TrainingConfig training = TrainingConfig.fromMap(readMap(in));
            long step = in.readLong();
            Rng rng = new Rng(in.readLong());
            Student student = new Student(config);
            Adam adam = new Adam(student);
            float[][] params = student.parameters();
            int arrays = version == 1 ? Student.FEATURE_PROJECTION : params.length;
            for (int i = 0; i < arrays; i++) {
                FloatArrays.read(in, params[i]);
                FloatArrays.read(in, adam.m[i]);
                FloatArrays.read(in, adam.v[i]);
            }
            return new StudentTrainer(config, training, student, adam, rng, step);
        } catch (IOException e) {
            throw new IllegalArgumentException("the trainer state is truncated or corrupt: " + e.getMessage(), e);
        }
    }

    /** A copy with other training settings (a replay may change them); architecture and weights stay. */
    @Override
    public StudentTrainer withTraining(TrainingConfig other) {
        StudentTrainer copy = fromBytes(toBytes());
        return new StudentTrainer(copy.config, other, copy.student, copy.adam, copy.rng, copy.step);
    }

    private int estimateBytes() {
        long n = 0;
        for (float[] p : student.parameters()) {
            n += 12L * p.length + 12;
        }
        return (int) Math.min(Integer.MAX_VALUE - 8, n + 4096);
    }

    private static void writeMap(DataOutputStream out, Map<String, String> map) throws IOException {
        out.writeInt(map.size());
        for (Map.Entry<String, String> e : map.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeUTF(e.getValue());
        }
    }

    private static Map<String, String> readMap(DataInputStream in) throws IOException {
        int n = in.readInt();
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            map.put(in.readUTF(), in.readUTF());
        }
        return map;
    }
}
