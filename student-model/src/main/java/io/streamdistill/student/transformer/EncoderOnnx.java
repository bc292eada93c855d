package io.streamdistill.student.transformer;

import static io.streamdistill.student.onnx.OnnxGraph.attr;
import static io.streamdistill.student.onnx.OnnxGraph.ints;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.streamdistill.student.onnx.OnnxGraph;

/**
 * The encoder as ONNX nodes (opset 17, for LayerNormalization), computing what {@link Encoder#forward}
 * computes from padded {@code input_ids} and {@code attention_mask} ([batch, sequence], int64): pad
 * positions are masked out of attention and of mean pooling, so each row equals the encoder's result
 * for its sequence alone.
 */
public final class EncoderOnnx {
    public static final int OPSET = 17;
    public static final String POOLED = "pooled";
    /** Added to the attention scores of pad keys: exp of it is 0 in float, as leaving them out is. */
    private static final float MASKED = -1e9f;
    private static final String ONE = "one";

    private EncoderOnnx() {
    }

    /** Adds the encoder to {@code g}, reading {@code inputIds} and {@code attentionMask}; returns the pooled [batch, width] tensor. */
    public static String pooled(OnnxGraph g, EncoderParams params, String inputIds, String attentionMask) {
        String maskF = g.node("Cast", attr("to", (long) TensorProto.DataType.FLOAT_VALUE), attentionMask);
        String x = hidden(g, params, inputIds, maskF, false);
        EncoderSpec spec = params.spec();
        if (spec.pooling() == EncoderSpec.Pooling.CLS) {
            return g.node("Gather", attr("axis", 1L), x, g.int64Scalar("cls_position", 0));
        }
        String one = ONE; // declared by hidden()
        String axis1 = g.int64Vector("axis_1", 1);
        String sum = g.node("ReduceSum", attr("keepdims", 0L), g.node("Mul", (AttributeProto) null, x,
                g.node("Unsqueeze", (AttributeProto) null, maskF, g.int64Vector("axis_2", 2))), axis1);
        String count = g.node("ReduceSum", attr("keepdims", 1L), maskF, axis1);
        return g.node("Div", (AttributeProto) null, sum, g.node("Max", (AttributeProto) null, count, one));
    }

    /**
     * The last hidden states [batch, sequence, width] from {@code inputIds} and the float attention mask; causal: a
     * position attends to itself and the positions before it only ({@link Encoder}'s causal mask).
     */
    static String hidden(OnnxGraph g, EncoderParams params, String inputIds, String maskF, boolean causal) {
        EncoderSpec spec = params.spec();
        int d = spec.width();
        String word = g.node("Gather", (AttributeProto) null,
                g.floatInitializer(EncoderParams.WORD, params.get(EncoderParams.WORD), spec.vocab(), d), inputIds);
        String length = g.node("Gather", (AttributeProto) null, g.node("Shape", (AttributeProto) null, inputIds),
                g.int64Scalar("sequence_axis", 1));
        String positions = g.node("Range", (AttributeProto) null, g.int64Scalar("range_start", 0), length, g.int64Scalar("range_step", 1));
        String pos = g.node("Gather", (AttributeProto) null,
                g.floatInitializer(EncoderParams.POSITION, params.get(EncoderParams.POSITION), spec.maxPositions(), d), positions);
        String embedded = g.node("Add", (AttributeProto) null, word, pos);
        if (spec.typeVocab() > 0) {
            float[] row0 = java.util.Arrays.copyOf(params.get(EncoderParams.TYPE), d);
            embedded = g.node("Add", (AttributeProto) null, embedded, g.floatInitializer(EncoderParams.TYPE + ".row0", row0, d));
        }
        String x = layerNorm(g, params, EncoderParams.EMB_LN, embedded);
        // (1 − mask) · MASKED, as [batch, 1, 1, sequence]: added to every head's scores of every query.
        String one = g.floatScalar(ONE, 1f);
        String keyMask = g.node("Unsqueeze", (AttributeProto) null,
                g.node("Mul", (AttributeProto) null, g.node("Sub", (AttributeProto) null, one, maskF), g.floatScalar("masked", MASKED)),
                g.int64Vector("axes_1_2", 1, 2));
        if (causal) {
            // [sequence, sequence]: 0 on and below the diagonal, MASKED above it, added to every head's scores.
            String square = g.node("Concat", attr("axis", 0L), g.node("Unsqueeze", (AttributeProto) null, length,
                    g.int64Vector("axis_0", 0)), g.node("Unsqueeze", (AttributeProto) null, length, g.int64Vector("axis_0b", 0)));
            String ones = g.node("Expand", (AttributeProto) null, one, square);
            String lower = g.node("Trilu", attr("upper", 0L), ones);
            keyMask = g.node("Add", (AttributeProto) null, keyMask, g.node("Mul", (AttributeProto) null,
                    g.node("Sub", (AttributeProto) null, one, lower), g.floatScalar("masked_future", MASKED)));
        }
        String heads = g.int64Vector("split_heads", 0, 0, spec.heads(), d / spec.heads());
        String merge = g.int64Vector("merge_heads", 0, 0, d);
        String scale = g.floatScalar("attention_scale", (float) (1 / Math.sqrt(d / spec.heads())));
        for (int l = 0; l < spec.layers(); l++) {
            x = block(g, params, l, x, keyMask, heads, merge, scale);
        }
        return x;
    }

    /**
     * A causal language model ({@link CausalLm}) in the signature Hugging Face's exporter gives GPT-2 and its kin:
     * {@code input_ids}, {@code attention_mask} ([batch, sequence], int64) → {@code logits} [batch, sequence, vocab],
     * the head tied to the word embeddings. Sequences are padded on the right: a real position's logits equal the Java
     * model's; a pad position's are not meaningful.
     */
    public static byte[] exportCausalLm(EncoderParams params) {
        OnnxGraph g = new OnnxGraph("streamdistill-causal-lm");
        g.int64Input("input_ids");
        g.int64Input("attention_mask");
        String maskF = g.node("Cast", attr("to", (long) TensorProto.DataType.FLOAT_VALUE), "attention_mask");
        String x = hidden(g, params, "input_ids", maskF, true);
        EncoderSpec spec = params.spec();
        // The tied head: the word table (already an initializer of the graph, for the input side), transposed.
        String wordT = g.node("Transpose", ints("perm", 1, 0), EncoderParams.WORD);
        g.nodeTo("logits", "MatMul", null, x, wordT);
        g.floatSequenceOutput("logits", spec.vocab());
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("streamdistill")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(g.proto()).build().toByteArray();
    }

    private static String block(OnnxGraph g, EncoderParams p, int l, String x, String keyMask, String heads, String merge, String scale) {
        String prefix = EncoderParams.layer(l);
        String q = g.node("Transpose", ints("perm", 0, 2, 1, 3),
                g.node("Reshape", (AttributeProto) null, dense(g, p, prefix + "attention.self.query", x), heads));
        String kT = g.node("Transpose", ints("perm", 0, 2, 3, 1),
                g.node("Reshape", (AttributeProto) null, dense(g, p, prefix + "attention.self.key", x), heads));
        String v = g.node("Transpose", ints("perm", 0, 2, 1, 3),
                g.node("Reshape", (AttributeProto) null, dense(g, p, prefix + "attention.self.value", x), heads));
        String scores = g.node("Add", (AttributeProto) null,
                g.node("Mul", (AttributeProto) null, g.node("MatMul", (AttributeProto) null, q, kT), scale), keyMask);
        String probs = g.node("Softmax", attr("axis", -1L), scores);
        String context = g.node("Reshape", (AttributeProto) null,
                g.node("Transpose", ints("perm", 0, 2, 1, 3), g.node("MatMul", (AttributeProto) null, probs, v)), merge);
        String attended = dense(g, p, prefix + "attention.output.dense", context);
        String h1 = layerNorm(g, p, prefix + "attention.output.LayerNorm", g.node("Add", (AttributeProto) null, attended, x));
        String f1 = dense(g, p, prefix + "intermediate.dense", h1);
        // GELU, exact: 0.5 · f1 · (1 + erf(f1 / √2)).
        String erf = g.node("Erf", (AttributeProto) null, g.node("Div", (AttributeProto) null, f1, g.floatScalar(prefix + "sqrt2",
                (float) Math.sqrt(2))));
        String gelu = g.node("Mul", (AttributeProto) null, g.node("Mul", (AttributeProto) null, f1, g.floatScalar(prefix + "half", 0.5f)),
                g.node("Add", (AttributeProto) null, erf, g.floatScalar(prefix + "erf_one", 1f)));
        String f2 = dense(g, p, prefix + "output.dense", gelu);
        return layerNorm(g, p, prefix + "output.LayerNorm", g.node("Add", (AttributeProto) null, f2, h1));
    }

    private static String dense(OnnxGraph g, EncoderParams p, String module, String x) {
        float[] w = p.get(module + ".weight");
        float[] b = p.get(module + ".bias");
        int out = b.length;
        String weight = g.floatInitializer(module + ".weight", w, w.length / out, out);
        return g.node("Add", (AttributeProto) null, g.node("MatMul", (AttributeProto) null, x, weight),
                g.floatInitializer(module + ".bias", b, out));
    }

    private static String layerNorm(OnnxGraph g, EncoderParams p, String module, String x) {
        int d = p.spec().width();
        return g.node("LayerNormalization", new AttributeProto[] {attr("axis", -1L), attr("epsilon", p.spec().eps())}, x,
                g.floatInitializer(module + ".weight", p.get(module + ".weight"), d),
                g.floatInitializer(module + ".bias", p.get(module + ".bias"), d));
    }

    /** The encoder alone as a model: {@code input_ids}, {@code attention_mask} → {@code pooled} [batch, width]. */
    public static byte[] export(EncoderParams params) {
        OnnxGraph g = new OnnxGraph("streamdistill-encoder");
        g.int64Input("input_ids");
        g.int64Input("attention_mask");
        String pooled = pooled(g, params, "input_ids", "attention_mask");
        g.nodeTo(POOLED, "Identity", null, pooled);
        g.floatOutput(POOLED, params.spec().width());
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("streamdistill")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(g.proto()).build().toByteArray();
    }
}
