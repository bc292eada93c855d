package io.streamdistill.teacher.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.streamdistill.records.Task;
import io.streamdistill.records.TeacherRef;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.tokenize.TextTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A teacher: an ONNX encoder run in ONNX Runtime, pooling (mean or CLS), optional normalisation,
 * and for classification a head. {@link #infer} returns RAW outputs: the pooled embedding or class
 * logits, never probabilities. Thread-safe.
 */
public final class Teacher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Teacher.class);

    /** Where inference runs. */
    public enum Device { CPU, CUDA }

    private final TeacherDescriptor descriptor;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final TextTokenizer tokenizer;
    private final String outputName;
    private final boolean needsTokenTypes;
    private final ClassificationHead head;
    private final TeacherRef ref;
    private final Device device;
    private final int embeddingDim;
    private final String encoderSha256;

    private Teacher(TeacherDescriptor d, OrtEnvironment env, OrtSession session, TextTokenizer tokenizer, Device device,
                    String modelSha) throws OrtException {
        this.descriptor = d;
        this.env = env;
        this.session = session;
        this.tokenizer = tokenizer;
        this.device = device;
        this.outputName = d.outputName() != null ? d.outputName() : session.getOutputNames().iterator().next();
        if (!session.getOutputNames().contains(outputName)) {
            throw new IllegalArgumentException("teacher.output '" + outputName + "' is not an output of " + d.model()
                    + "; it has " + session.getOutputNames());
        }
        this.needsTokenTypes = session.getInputNames().contains("token_type_ids");
        NodeInfo out = session.getOutputInfo().get(outputName);
        long[] shape = ((TensorInfo) out.getInfo()).getShape();
        this.embeddingDim = (int) shape[shape.length - 1];
        if (d.head() instanceof TeacherDescriptor.PrototypeSpec p) {
            this.head = PrototypeHead.build(p.examples(), p.scale(), this::embedTexts);
        } else if (d.head() instanceof TeacherDescriptor.LinearSpec l) {
            this.head = LinearHead.read(l.file(), embeddingDim);
        } else {
            this.head = null;
        }
        // The tokenizer's file hash, not its id: the id starts with the teacher's name, which a head changes.
        String tokenizerSha = tokenizer.id().substring(tokenizer.id().indexOf("@sha256:") + 1);
        this.encoderSha256 = Hashing.sha256((modelSha + "|" + tokenizerSha + "|" + d.pooling() + "|" + outputName)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String fingerprint = head == null ? modelSha : Hashing.sha256((modelSha + "|" + head.fingerprint()).getBytes());
        this.ref = TeacherRef.newBuilder().setModelId(d.id()).setSha256(fingerprint).setTokenizer(tokenizer.id()).build();
    }

    /**
     * Loads the model and tokenizer.
     *
     * @param threads ONNX Runtime intra-op threads
     * @param device  CUDA is tried when asked for; when it cannot be had the teacher falls back to
     *                the CPU with one log line saying why
     */
    public static Teacher load(TeacherDescriptor d, int threads, Device device, int cudaDeviceId) {
        if (!TeacherDescriptor.exists(d.model())) {
            throw new IllegalArgumentException("teacher.model " + d.model() + " does not exist");
        }
        if (!TeacherDescriptor.exists(d.tokenizer())) {
            throw new IllegalArgumentException("teacher.tokenizer " + d.tokenizer() + " does not exist");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("teacher.threads must be >= 1, got " + threads);
        }
        String modelSha;
        try {
            modelSha = Hashing.sha256(Files.readAllBytes(d.model()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + d.model(), e);
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        TextTokenizer tokenizer = TextTokenizer.load(d.tokenizer(), d.id(), d.maxTokens());
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            // Spinning idle threads halved throughput per core on shared machines (DESIGN.md).
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            Device used = Device.CPU;
            if (device == Device.CUDA) {
                try {
                    options.addCUDA(cudaDeviceId);
                    used = Device.CUDA;
                } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
                    LOG.warn("CUDA was asked for but cannot be used ({}); the teacher runs on the CPU", e.getMessage());
                }
            }
            OrtSession session = env.createSession(d.model().toString(), options);
            Teacher t = new Teacher(d, env, session, tokenizer, used, modelSha);
            LOG.info("teacher {} loaded on {}: {} -> {}-d {} pooling{}", d.id(), used, d.model().getFileName(), t.embeddingDim,
                    d.pooling(), t.head == null ? "" : ", head " + t.head.classNames());
            return t;
        } catch (OrtException e) {
            tokenizer.close();
            throw new IllegalArgumentException("ONNX Runtime cannot load the teacher model " + d.model() + ": " + e.getMessage(), e);
        }
    }

    public TeacherDescriptor descriptor() {
        return descriptor;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    public TeacherRef ref() {
        return ref;
    }

    public Device device() {
        return device;
    }

    public Task task() {
        return head == null ? Task.EMBEDDING : Task.CLASSIFICATION;
    }

    /** Class names of a classification teacher, in logit order; empty for an embedding teacher. */
    public List<String> classNames() {
        return head == null ? List.of() : head.classNames();
    }

    public int embeddingDim() {
        return embeddingDim;
    }

    /**
     * The sha256 of the encoder alone (model file, tokenizer, pooling, output): what a static table
     * distilled from this teacher depends on. The head is not part of it.
     */
    public String encoderSha256() {
        return encoderSha256;
    }

    /** The classification head, or null for an embedding teacher. */
    public ClassificationHead head() {
        return head;
    }

    /** The head as W e + b over the embeddings {@link #embed} gives (null for an embedding teacher). */
    public io.streamdistill.student.init.WarmStart.TeacherHead linearHead() {
        return head == null ? null : head.linear(descriptor.normalize());
    }

    /** Raw outputs for already tokenised texts: class logits, or the pooled (and, if so described, normalised) embedding. */
    public float[][] infer(int[][] ids) {
        float[][] embeddings = embed(ids);
        if (head == null) {
            return embeddings;
        }
        float[][] logits = new float[embeddings.length][];
        for (int i = 0; i < embeddings.length; i++) {
            logits[i] = head.logits(embeddings[i]);
        }
        return logits;
    }

    /** Raw outputs and the pooled embeddings they came from (for a classification teacher the two differ). */
    public record Output(float[][] outputs, float[][] embeddings) {
    }

    /** Like {@link #infer}, also returning the pooled embeddings: one encoder run for both. */
    public Output inferWithEmbeddings(int[][] ids) {
        float[][] embeddings = embed(ids);
        if (head == null) {
            return new Output(embeddings, embeddings);
        }
        float[][] logits = new float[embeddings.length][];
        for (int i = 0; i < embeddings.length; i++) {
            logits[i] = head.logits(embeddings[i]);
        }
        return new Output(logits, embeddings);
    }

    /** Pooled embeddings of texts (tokenised here). */
    public float[][] embedTexts(List<String> texts) {
        return embed(tokenizer.encode(texts));
    }

    /**
     * Pooled embeddings of many tokenised texts: sorted by length and run in batches of {@code batch},
     * so padding stays small; {@code progress} hears (done, total) after each batch. In the input's order.
     */
    public float[][] embedAll(int[][] ids, int batch, java.util.function.BiConsumer<Integer, Integer> progress) {
        Integer[] order = new Integer[ids.length];
        for (int i = 0; i < ids.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, java.util.Comparator.comparingInt(i -> ids[i].length));
        float[][] out = new float[ids.length][];
        for (int from = 0; from < order.length; from += batch) {
            int to = Math.min(order.length, from + batch);
            int[][] chunk = new int[to - from][];
            for (int j = from; j < to; j++) {
                chunk[j - from] = ids[order[j]];
            }
            float[][] e = embed(chunk);
            for (int j = from; j < to; j++) {
                out[order[j]] = e[j - from];
            }
            progress.accept(to, order.length);
        }
        return out;
    }

    /** Pooled embeddings of tokenised texts, one ONNX Runtime run for the whole batch. */
    public float[][] embed(int[][] ids) {
        return run(ids, descriptor.normalize());
    }

    /** Pooled outputs as the teacher pools them, never normalised (static distillation starts from these). */
    public float[][] pooled(int[][] ids) {
        return run(ids, false);
    }

    private float[][] run(int[][] ids, boolean normalize) {
        int n = ids.length;
        if (n == 0) {
            return new float[0][];
        }
        TextTokenizer.PaddedBatch batch = TextTokenizer.pad(ids, 0);
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(env, batch.inputIds(), batch.shape()));
            inputs.put("attention_mask", OnnxTensor.createTensor(env, batch.attentionMask(), batch.shape()));
            if (needsTokenTypes) {
                inputs.put("token_type_ids", OnnxTensor.createTensor(env, batch.zeros(), batch.shape()));
            }
            try (OrtSession.Result result = session.run(inputs, java.util.Set.of(outputName))) {
                OnnxTensor out = (OnnxTensor) result.get(0);
                long[] outShape = out.getInfo().getShape();
                return pool(out.getFloatBuffer(), outShape, ids, normalize);
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on a batch of " + n + " texts: " + e.getMessage(), e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    private float[][] pool(FloatBuffer flat, long[] shape, int[][] ids, boolean normalize) {
        int n = ids.length;
        int dim = (int) shape[shape.length - 1];
        float[][] out = new float[n][dim];
        if (shape.length == 2) {
            for (float[] row : out) {
                flat.get(row); // the model pools itself
            }
        } else {
            int seq = (int) shape[1];
            for (int b = 0; b < n; b++) {
                int base = b * seq * dim;
                if (descriptor.pooling() == Pooling.CLS) {
                    flat.get(base, out[b], 0, dim);
                } else {
                    int len = ids[b].length;
                    for (int t = 0; t < len; t++) {
                        int off = base + t * dim;
                        for (int j = 0; j < dim; j++) {
                            out[b][j] += flat.get(off + j);
                        }
                    }
                    float inv = 1f / Math.max(len, 1);
                    for (int j = 0; j < dim; j++) {
                        out[b][j] *= inv;
                    }
                }
            }
        }
        if (normalize) {
            for (int b = 0; b < n; b++) {
                out[b] = Vectors.normalized(out[b]);
            }
        }
        return out;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            LOG.warn("error closing the teacher's ONNX Runtime session: {}", e.getMessage());
        }
        tokenizer.close();
    }
}
