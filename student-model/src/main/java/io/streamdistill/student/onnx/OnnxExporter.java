package io.streamdistill.student.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a student as an ONNX model (opset 13) that computes exactly the Java forward pass from
 * {@code input_ids} and {@code attention_mask} (int64 {@code [batch, sequence]}): gather, masked
 * mean over tokens and hashed bigrams, optional hidden layer, linear head, then softmax
 * ({@code probabilities}) or L2 normalisation ({@code embedding}).
 */
public final class OnnxExporter {
    public static final int OPSET = 13;
    public static final String INPUT_IDS = "input_ids";
    public static final String ATTENTION_MASK = "attention_mask";
    public static final String PROBABILITIES = "probabilities";
    public static final String EMBEDDING = "embedding";
    /** Metadata keys written into the model. */
    public static final String META_TASK = "streamdistill.task";
    public static final String META_CLASS_NAMES = "streamdistill.class_names";
    public static final String META_TOKENIZER = "streamdistill.tokenizer";
    public static final String META_VERSION = "streamdistill.checkpoint_version";
    public static final String META_STUDENT = "streamdistill.student";
    public static final String META_ARCHITECTURE = "streamdistill.architecture";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What to record in the model's metadata besides the architecture. */
    public record Metadata(String tokenizerId, long checkpointVersion, Map<String, String> extra) {
        public Metadata(String tokenizerId, long checkpointVersion) {
            this(tokenizerId, checkpointVersion, Map.of());
        }
    }

    private final OnnxGraph g = new OnnxGraph("streamdistill-student");

    private OnnxExporter() {
    }

    /** The serialised ONNX model of the student's current parameters. */
    public static byte[] export(Student student, Metadata metadata) {
        return new OnnxExporter().build(student, metadata).toByteArray();
    }

    private ModelProto build(Student student, Metadata meta) {
        StudentConfig c = student.config();
        float[][] p = student.parameters();
        int d = c.embeddingDim();
        g.int64Input(INPUT_IDS);
        g.int64Input(ATTENTION_MASK);

        String axis1 = int64Constant("axis1", 1);
        String axis2 = int64Constant("axis2", 2);
        String mask = node("Cast", attr("to", TensorProto.DataType.FLOAT_VALUE), ATTENTION_MASK);
        String tokens = floatInitializer("tokens", p[Student.TOKENS], c.vocabSize(), d);
        String tokenRows = node("Gather", null, tokens, INPUT_IDS);
        String sum = reduceSum(node("Mul", null, tokenRows, node("Unsqueeze", null, mask, axis2)), axis1, false);
        String count = reduceSum(mask, axis1, true);

        if (c.bigramBuckets() > 0) {
            String zero = int64Constant("zero", 0);
            String one = int64Constant("one", 1);
            String minusOne = int64Constant("minus_one", -1);
            String end = int64Constant("end", Long.MAX_VALUE);
            String left = node("Slice", null, INPUT_IDS, zero, minusOne, axis1);
            String right = node("Slice", null, INPUT_IDS, one, end, axis1);
            String maskLeft = node("Slice", null, mask, zero, minusOne, axis1);
            String maskRight = node("Slice", null, mask, one, end, axis1);
            String prime = int64Scalar("bigram_prime", StudentConfig.BIGRAM_PRIME);
            String buckets = int64Scalar("bigram_buckets", c.bigramBuckets());
            String hash = node("Mod", attr("fmod", 0), node("Add", null, node("Mul", null, left, prime), right), buckets);
            String pairMask = node("Mul", null, maskLeft, maskRight);
            String bigrams = floatInitializer("bigrams", p[Student.BIGRAMS], c.bigramBuckets(), d);
            String bigramRows = node("Gather", null, bigrams, hash);
            String bigramSum = reduceSum(node("Mul", null, bigramRows, node("Unsqueeze", null, pairMask, axis2)), axis1, false);
            sum = node("Add", null, sum, bigramSum);
            count = node("Add", null, count, reduceSum(pairMask, axis1, true));
        }
        String pooled = node("Div", null, sum, node("Max", null, count, floatScalar("one_f", 1f)));

        String z = pooled;
        if (c.hiddenDim() > 0) {
            String w1t = floatInitializer("w1_t", transpose(p[2], c.hiddenDim(), d), d, c.hiddenDim());
            String b1 = floatInitializer("b1", p[3], c.hiddenDim());
            z = node(c.activation().onnxOp(), null, node("Add", null, node("MatMul", null, pooled, w1t), b1));
        }
        int in = c.headInputDim();
        String w2t = floatInitializer("w2_t", transpose(p[4], c.outputDim(), in), in, c.outputDim());
        String b2 = floatInitializer("b2", p[5], c.outputDim());
        String out = node("Add", null, node("MatMul", null, z, w2t), b2);

        String outputName;
        if (c.task() == Task.CLASSIFICATION) {
            outputName = PROBABILITIES;
            g.nodeTo(outputName, "Softmax", attr("axis", -1), out);
        } else {
            outputName = EMBEDDING;
            String norm = node("Sqrt", null, reduceSum(node("Mul", null, out, out), axis1, true));
            String denom = node("Max", null, norm, floatScalar("norm_eps", Student.NORM_EPSILON));
            g.nodeTo(outputName, "Div", null, out, denom);
        }
        g.floatOutput(outputName, c.outputDim());

        ModelProto.Builder model = ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("streamdistill")
                .setProducerVersion(String.valueOf(meta.checkpointVersion()))
                .setModelVersion(meta.checkpointVersion())
                .setDocString(c.describe())
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(g.proto());
        Map<String, String> props = new LinkedHashMap<>();
        props.put(META_TASK, c.task().name());
        props.put(META_CLASS_NAMES, json(c.classNames()));
        props.put(META_TOKENIZER, meta.tokenizerId());
        props.put(META_VERSION, String.valueOf(meta.checkpointVersion()));
        props.put(META_ARCHITECTURE, c.describe());
        props.put(META_STUDENT, json(c.toMap()));
        props.putAll(meta.extra());
        props.forEach((k, v) -> model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return model.build();
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private String node(String op, AttributeProto attribute, String... inputs) {
        return g.node(op, attribute, inputs);
    }

    private String reduceSum(String input, String axes, boolean keepDims) {
        return node("ReduceSum", attr("keepdims", keepDims ? 1 : 0), input, axes);
    }

    private static AttributeProto attr(String name, long value) {
        return OnnxGraph.attr(name, value);
    }

    /** A 1-element int64 vector (axes, slice bounds). */
    private String int64Constant(String name, long value) {
        return g.int64Vector(name, value);
    }

    private String int64Scalar(String name, long value) {
        return g.int64Scalar(name, value);
    }

    private String floatScalar(String name, float value) {
        return g.floatScalar(name, value);
    }

    private String floatInitializer(String name, float[] values, int... dims) {
        return g.floatInitializer(name, values, dims);
    }

    /** rows x cols (row-major) to cols x rows, for MatMul's [in, out] weight layout. */
    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < cols; col++) {
                t[col * rows + r] = a[r * cols + col];
            }
        }
        return t;
    }
}
