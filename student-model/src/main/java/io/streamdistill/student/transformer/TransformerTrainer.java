package io.streamdistill.student.transformer;

import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.train.Adam;
import io.streamdistill.student.train.BatchResult;
import io.streamdistill.student.train.Evaluation;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.TrainingConfig;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains a {@link TransformerStudent} on distillation examples with the bag trainer's losses and
 * rules: a batch's loss is the weighted mean of its examples' (KD + CE for classification, the
 * embedding loss otherwise), gradients are clipped by their global norm, and Adam steps with the
 * schedule of {@link TrainingConfig}. The word-embedding table updates only the rows the batch
 * touched (lazy Adam, as the bag does); every other tensor updates every step. One batch runs as
 * one packed forward and backward pass through the encoder. Not thread-safe.
 */
public final class TransformerTrainer implements Learner {
    private final TransformerStudent student;
    private final TrainingConfig training;
    private final Encoder encoder;
    private final Gemm gemm;
    private final EncoderParams grads;
    private final float[] headWeightGrad;
    private final float[] headBiasGrad;
    /** Adam's moments, per tensor, in the order of {@link #tensors}. */
    final List<float[]> m = new ArrayList<>();
    final List<float[]> v = new ArrayList<>();
    long step;

    public TransformerTrainer(TransformerStudent student, TrainingConfig training, Gemm gemm) {
        this.student = student;
        this.training = training;
        this.gemm = gemm;
        this.encoder = new Encoder(student.encoder(), gemm);
        this.grads = EncoderParams.zeros(student.encoder().spec());
        this.headWeightGrad = new float[student.headWeight().length];
        this.headBiasGrad = new float[student.headBias().length];
        for (float[] t : tensors()) {
            m.add(new float[t.length]);
            v.add(new float[t.length]);
        }
    }

    public TransformerStudent student() {
        return student;
    }

    @Override
    public TrainingConfig training() {
        return training;
    }

    @Override
    public long step() {
        return step;
    }

    @Override
    public String architecture() {
        return "transformer";
    }

    @Override
    public Task task() {
        return student.task();
    }

    @Override
    public List<String> classNames() {
        return student.classNames();
    }

    @Override
    public int outputDim() {
        return student.outputs();
    }

    @Override
    public String describe() {
        return student.describe();
    }

    @Override
    public long parameterCount() {
        return student.parameterCount();
    }

    @Override
    public TransformerTrainer withTraining(TrainingConfig other) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try {
            writeTo(bytes);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        TransformerTrainer copy = readFrom(new java.io.ByteArrayInputStream(bytes.toByteArray()), gemm);
        TransformerTrainer t = new TransformerTrainer(copy.student, other, gemm);
        t.step = copy.step;
        for (int i = 0; i < t.m.size(); i++) {
            System.arraycopy(copy.m.get(i), 0, t.m.get(i), 0, t.m.get(i).length);
            System.arraycopy(copy.v.get(i), 0, t.v.get(i), 0, t.v.get(i).length);
        }
        return t;
    }

    @Override
    public float[] predict(int[] tokenIds) {
        return predict(new int[][] {tokenIds})[0];
    }

    @Override
    public byte[] exportOnnx(io.streamdistill.student.onnx.OnnxExporter.Metadata metadata) {
        return TransformerOnnx.export(student, metadata);
    }

    /** The word table first (rows move where tokens touched them), no bigram table, then every other tensor whole. */
    @Override
    public float[][] syncArrays() {
        List<float[]> all = tensors();
        float[][] arrays = new float[all.size() + 1][];
        arrays[0] = all.get(0);
        arrays[1] = new float[0];
        for (int i = 1; i < all.size(); i++) {
            arrays[i + 1] = all.get(i);
        }
        return arrays;
    }

    @Override
    public int syncRowWidth() {
        return student.encoder().spec().width();
    }

    @Override
    public int bigramBuckets() {
        return 0;
    }

    /** Every trained tensor, in a fixed order: the encoder's (its order), then the head's weight and bias. */
    List<float[]> tensors() {
        List<float[]> all = new ArrayList<>(student.encoder().tensors().values());
        all.add(student.headWeight());
        all.add(student.headBias());
        return all;
    }

    private List<float[]> gradients() {
        List<float[]> all = new ArrayList<>(grads.tensors().values());
        all.add(headWeightGrad);
        all.add(headBiasGrad);
        return all;
    }

    /** What a batch's forward pass gave: the encoder's activations and the head's outputs, [batch × outputs]. */
    private record Outputs(Encoder.Activations encoded, float[] headInput, float[] pooledNorms, float[] logits, float[] predictions) {
    }

    private Outputs forward(int[][] tokens) {
        Encoder.Activations a = encoder.forward(tokens);
        int n = tokens.length;
        int out = student.outputs();
        int d = student.encoder().spec().width();
        float[] headInput = a.pooled();
        float[] pooledNorms = null;
        if (student.unitPooled()) {
            headInput = headInput.clone();
            pooledNorms = new float[n];
            for (int s = 0; s < n; s++) {
                double norm = 0;
                for (int j = 0; j < d; j++) {
                    norm += (double) headInput[s * d + j] * headInput[s * d + j];
                }
                pooledNorms[s] = (float) Math.max(Math.sqrt(norm), TransformerStudent.NORM_EPSILON);
                for (int j = 0; j < d; j++) {
                    headInput[s * d + j] /= pooledNorms[s];
                }
            }
        }
        float[] logits = new float[n * out];
        Dense.forward(gemm, headInput, n, d, student.headWeight(), student.headBias(), out, logits);
        float[] predictions = logits;
        if (student.task() == Task.EMBEDDING) {
            predictions = logits.clone();
            for (int s = 0; s < n; s++) {
                double norm = 0;
                for (int j = 0; j < out; j++) {
                    norm += (double) logits[s * out + j] * logits[s * out + j];
                }
                float inv = (float) (1 / Math.max(Math.sqrt(norm), TransformerStudent.NORM_EPSILON));
                for (int j = 0; j < out; j++) {
                    predictions[s * out + j] *= inv;
                }
            }
        } else {
            predictions = new float[n * out];
            for (int s = 0; s < n; s++) {
                softmax(logits, s * out, out, predictions);
            }
        }
        return new Outputs(a, headInput, pooledNorms, logits, predictions);
    }

    /** One optimiser step on the batch; returns its weighted loss and plain agreement before the update. */
    @Override
    public BatchResult train(List<Example> batch) {
        if (batch.isEmpty()) {
            throw new IllegalArgumentException("cannot train on an empty batch");
        }
        int n = batch.size();
        int out = student.outputs();
        int d = student.encoder().spec().width();
        int[][] tokens = new int[n][];
        double totalWeight = 0;
        for (int s = 0; s < n; s++) {
            tokens[s] = batch.get(s).tokenIds();
            totalWeight += batch.get(s).weight();
        }
        Outputs o = forward(tokens);
        float[] dLogits = new float[n * out];
        float[] g = new float[out];
        double lossSum = 0;
        double agreementSum = 0;
        double klSum = 0;
        for (int s = 0; s < n; s++) {
            Example e = batch.get(s);
            float share = (float) (e.weight() / totalWeight);
            float loss = lossAndGradient(o, s, e, g);
            lossSum += share * loss;
            agreementSum += agreement(o, s, e);
            if (student.task() == Task.CLASSIFICATION) {
                klSum += DistillationLoss.klDivergence(row(o.logits(), s, out), e.teacher(), training.temperature());
            }
            for (int j = 0; j < out; j++) {
                dLogits[s * out + j] = g[j] * share;
            }
        }
        grads.clear();
        java.util.Arrays.fill(headWeightGrad, 0f);
        java.util.Arrays.fill(headBiasGrad, 0f);
        float[] dPooled = new float[n * d];
        Dense.backward(gemm, dLogits, o.headInput(), student.headWeight(), n, d, out, dPooled, false, headWeightGrad, headBiasGrad);
        if (o.pooledNorms() != null) {
            // Through u = p / |p|: dp = (du − u (u · du)) / |p|.
            for (int s = 0; s < n; s++) {
                double dot = 0;
                for (int j = 0; j < d; j++) {
                    dot += (double) o.headInput()[s * d + j] * dPooled[s * d + j];
                }
                for (int j = 0; j < d; j++) {
                    dPooled[s * d + j] = (float) ((dPooled[s * d + j] - o.headInput()[s * d + j] * dot) / o.pooledNorms()[s]);
                }
            }
        }
        encoder.backward(o.encoded(), dPooled, grads);
        step++;
        double squared = 0;
        for (float[] t : gradients()) {
            for (float x : t) {
                squared += (double) x * x;
            }
        }
        float norm = (float) Math.sqrt(squared);
        float clip = training.clipNorm() > 0 && norm > training.clipNorm() ? training.clipNorm() / norm : 1f;
        float lr = training.learningRateAt(step);
        adam(tokens, lr, clip);
        return new BatchResult(step, (float) lossSum, (float) (agreementSum / n),
                student.task() == Task.CLASSIFICATION ? (float) (klSum / n) : Float.NaN, norm, lr);
    }

    /** Scores one example without training on it. */
    @Override
    public Evaluation evaluate(Example e) {
        Outputs o = forward(new int[][] {e.tokenIds()});
        float loss = lossAndGradient(o, 0, e, new float[student.outputs()]);
        float agreement = agreement(o, 0, e);
        if (student.task() == Task.CLASSIFICATION) {
            float[] logits = row(o.logits(), 0, student.outputs());
            float kl = DistillationLoss.klDivergence(logits, e.teacher(), training.temperature());
            float correct = e.label() < 0 ? Float.NaN : DistillationLoss.argmax(logits) == e.label() ? 1f : 0f;
            return new Evaluation(loss, agreement, kl, correct);
        }
        return new Evaluation(loss, agreement, 0f, Float.NaN);
    }

    /** The outputs for a batch of texts: probabilities (classification) or unit embeddings, one row per text. */
    public float[][] predict(int[][] tokens) {
        return rows(forward(tokens).predictions(), tokens.length);
    }

    /** The head's outputs before any softmax or normalisation (logits, or the embedding before its unit scaling), one row per text. */
    public float[][] rawOutputs(int[][] tokens) {
        return rows(forward(tokens).logits(), tokens.length);
    }

    private float[][] rows(float[] flat, int texts) {
        float[][] rows = new float[texts][];
        for (int s = 0; s < texts; s++) {
            rows[s] = row(flat, s, student.outputs());
        }
        return rows;
    }

    private float lossAndGradient(Outputs o, int s, Example e, float[] grad) {
        int out = student.outputs();
        if (student.task() == Task.CLASSIFICATION) {
            return DistillationLoss.classification(row(o.logits(), s, out), e.teacher(), e.label(), training.temperature(),
                    training.alpha(), grad);
        }
        float[] unit = row(o.predictions(), s, out);
        float[] dUnit = new float[out];
        float loss = DistillationLoss.embedding(unit, e.teacher(), training.embeddingLoss(), dUnit);
        // Through u = z / |z|: dz = (du − u (u · du)) / |z|.
        double norm = 0;
        double dot = 0;
        for (int j = 0; j < out; j++) {
            float z = o.logits()[s * out + j];
            norm += (double) z * z;
            dot += (double) unit[j] * dUnit[j];
        }
        float inv = (float) (1 / Math.max(Math.sqrt(norm), TransformerStudent.NORM_EPSILON));
        for (int j = 0; j < out; j++) {
            grad[j] = (float) ((dUnit[j] - unit[j] * dot) * inv);
        }
        return loss;
    }

    private float agreement(Outputs o, int s, Example e) {
        int out = student.outputs();
        if (student.task() == Task.CLASSIFICATION) {
            return DistillationLoss.argmax(row(o.logits(), s, out)) == DistillationLoss.argmax(e.teacher()) ? 1f : 0f;
        }
        return DistillationLoss.cosine(row(o.predictions(), s, out), e.teacher());
    }

    private void adam(int[][] tokens, float lr, float gradScale) {
        float b1 = training.beta1();
        float b2 = training.beta2();
        float c1 = (float) (1 - Math.pow(b1, step));
        float c2 = (float) (1 - Math.pow(b2, step));
        float stepSize = lr / c1;
        float eps = training.epsilon();
        List<float[]> params = tensors();
        List<float[]> gs = gradients();
        int d = student.encoder().spec().width();
        for (int t = 0; t < params.size(); t++) {
            if (t == 0) {
                // The word table (first tensor): only the rows of the batch's tokens.
                BitSet rows = new BitSet();
                for (int[] seq : tokens) {
                    for (int id : seq) {
                        rows.set(id);
                    }
                }
                for (int r = rows.nextSetBit(0); r >= 0; r = rows.nextSetBit(r + 1)) {
                    Adam.update(params.get(0), gs.get(0), m.get(0), v.get(0), r * d, d, b1, b2, c2, stepSize, eps, gradScale);
                }
                continue;
            }
            Adam.update(params.get(t), gs.get(t), m.get(t), v.get(t), 0, params.get(t).length, b1, b2, c2, stepSize, eps, gradScale);
        }
    }

    private static float[] row(float[] a, int s, int width) {
        return java.util.Arrays.copyOfRange(a, s * width, (s + 1) * width);
    }

    private static void softmax(float[] logits, int off, int n, float[] out) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, logits[off + j]);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            double e = Math.exp(logits[off + j] - max);
            out[off + j] = (float) e;
            sum += e;
        }
        for (int j = 0; j < n; j++) {
            out[off + j] = (float) (out[off + j] / sum);
        }
    }

    /** Version of {@link #writeTo}'s format; bumped on any change to it. */
    /** Version 2 added whether the head reads the pooled vector at unit length; version 1 states still load (it did not). */
    public static final int STATE_FORMAT_VERSION = 2;
    public static final int MAGIC = 0x53445446; // "SDTF"

    /**
     * The whole trainer: format version, task and outputs, the encoder's shape, training settings, step,
     * then every tensor with its Adam moments. Training after {@link #readFrom} goes on bit for bit.
     */
    @Override
    public void writeTo(java.io.OutputStream stream) throws java.io.IOException {
        java.io.DataOutputStream out = new java.io.DataOutputStream(stream);
        out.writeInt(MAGIC);
        out.writeInt(STATE_FORMAT_VERSION);
        out.writeUTF(student.task().name());
        out.writeInt(student.classNames().size());
        for (String c : student.classNames()) {
            out.writeUTF(c);
        }
        out.writeInt(student.outputs());
        out.writeBoolean(student.unitPooled());
        EncoderSpec spec = student.encoder().spec();
        for (int x : new int[] {spec.vocab(), spec.width(), spec.layers(), spec.heads(), spec.ffn(), spec.maxPositions(), spec.typeVocab()}) {
            out.writeInt(x);
        }
        out.writeFloat(spec.eps());
        out.writeUTF(spec.pooling().name());
        Map<String, String> settings = training.toMap();
        out.writeInt(settings.size());
        for (Map.Entry<String, String> e : settings.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeUTF(e.getValue());
        }
        out.writeLong(step);
        List<float[]> params = tensors();
        for (int t = 0; t < params.size(); t++) {
            io.streamdistill.student.train.FloatArrays.write(out, params.get(t));
            io.streamdistill.student.train.FloatArrays.write(out, m.get(t));
            io.streamdistill.student.train.FloatArrays.write(out, v.get(t));
        }
        out.flush();
    }

    /**
     * Reads a trainer {@link #writeTo} wrote, leaving the stream just after it.
     *
     * @throws IllegalArgumentException when the stream holds no transformer trainer state, or one of another format
     */
    public static TransformerTrainer readFrom(java.io.InputStream stream, Gemm gemm) {
        try {
            java.io.DataInputStream in = new java.io.DataInputStream(stream);
            if (in.readInt() != MAGIC) {
                throw new IllegalArgumentException("these bytes are not a StreamDistill transformer trainer state");
            }
            int version = in.readInt();
            if (version != STATE_FORMAT_VERSION && version != 1) {
                throw new IllegalArgumentException("transformer trainer state format version " + version + " is not supported (this"
                        + " build reads " + STATE_FORMAT_VERSION + ")");
            }
            Task task = Task.valueOf(in.readUTF());
            List<String> classes = new ArrayList<>();
            for (int i = in.readInt(); i > 0; i--) {
                classes.add(in.readUTF());
            }
            int outputs = in.readInt();
            boolean unitPooled = version >= 2 && in.readBoolean();
            EncoderSpec spec = new EncoderSpec(in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt(),
                    in.readInt(), in.readFloat(), EncoderSpec.Pooling.valueOf(in.readUTF()));
            Map<String, String> settings = new LinkedHashMap<>();
            for (int i = in.readInt(); i > 0; i--) {
                settings.put(in.readUTF(), in.readUTF());
            }
            TransformerTrainer t = new TransformerTrainer(new TransformerStudent(task, classes, outputs, EncoderParams.zeros(spec), unitPooled),
                    TrainingConfig.fromMap(settings), gemm);
            t.step = in.readLong();
            List<float[]> params = t.tensors();
            for (int i = 0; i < params.size(); i++) {
                io.streamdistill.student.train.FloatArrays.read(in, params.get(i));
                io.streamdistill.student.train.FloatArrays.read(in, t.m.get(i));
                io.streamdistill.student.train.FloatArrays.read(in, t.v.get(i));
            }
            return t;
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("the transformer trainer state is truncated or corrupt: " + e.getMessage(), e);
        }
    }
}
