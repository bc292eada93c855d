package io.streamdistill.student.transformer;

import static io.streamdistill.student.onnx.OnnxGraph.attr;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.onnx.OnnxGraph;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A transformer student as an ONNX model with the bag student's signature ({@code input_ids},
 * {@code attention_mask} → {@code probabilities} or {@code embedding}) and metadata, so that
 * everything that runs a student file (serve, eval, the monitor, adaptive sampling) runs it as it is.
 */
public final class TransformerOnnx {
    /** Metadata key naming the architecture family ("transformer"); bag files have none. */
    public static final String META_ARCH = "streamdistill.arch";
    /**
     * Metadata key holding the student's shape as a JSON map (encoder spec, outputs, whether the head reads the
     * unit pooled vector), so that {@link #read} rebuilds it from the file alone.
     */
    public static final String META_TRANSFORMER = "streamdistill.transformer";

    private TransformerOnnx() {
    }

    public static byte[] export(TransformerStudent student, OnnxExporter.Metadata meta) {
        OnnxGraph g = new OnnxGraph("streamdistill-transformer-student");
        g.int64Input(OnnxExporter.INPUT_IDS);
        g.int64Input(OnnxExporter.ATTENTION_MASK);
        String pooled = EncoderOnnx.pooled(g, student.encoder(), OnnxExporter.INPUT_IDS, OnnxExporter.ATTENTION_MASK);
        int d = student.encoder().spec().width();
        int out = student.outputs();
        if (student.unitPooled()) {
            String norm = g.node("Sqrt", (AttributeProto) null, g.node("ReduceSum", attr("keepdims", 1L),
                    g.node("Mul", (AttributeProto) null, pooled, pooled), g.int64Vector("pooled_axis", 1)));
            pooled = g.node("Div", (AttributeProto) null, pooled, g.node("Max", (AttributeProto) null, norm,
                    g.floatScalar("pooled_norm_eps", TransformerStudent.NORM_EPSILON)));
        }
        String logits = g.node("Add", (AttributeProto) null, g.node("MatMul", (AttributeProto) null, pooled,
                g.floatInitializer("head.weight", student.headWeight(), d, out)), g.floatInitializer("head.bias", student.headBias(), out));
        String output;
        if (student.task() == Task.CLASSIFICATION) {
            output = OnnxExporter.PROBABILITIES;
            g.nodeTo(output, "Softmax", attr("axis", -1L), logits);
        } else {
            output = OnnxExporter.EMBEDDING;
            String norm = g.node("Sqrt", (AttributeProto) null, g.node("ReduceSum", attr("keepdims", 1L),
                    g.node("Mul", (AttributeProto) null, logits, logits), g.int64Vector("head_axis", 1)));
            g.nodeTo(output, "Div", null, logits, g.node("Max", (AttributeProto) null, norm,
                    g.floatScalar("norm_eps", TransformerStudent.NORM_EPSILON)));
        }
        g.floatOutput(output, out);
        ModelProto.Builder model = ModelProto.newBuilder().setIrVersion(8).setProducerName("streamdistill")
                .setProducerVersion(String.valueOf(meta.checkpointVersion())).setModelVersion(meta.checkpointVersion())
                .setDocString(student.describe())
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(EncoderOnnx.OPSET))
                .setGraph(g.proto());
        Map<String, String> props = new LinkedHashMap<>();
        props.put(OnnxExporter.META_TASK, student.task().name());
        props.put(OnnxExporter.META_CLASS_NAMES, json(student.classNames()));
        props.put(OnnxExporter.META_TOKENIZER, meta.tokenizerId());
        props.put(OnnxExporter.META_VERSION, String.valueOf(meta.checkpointVersion()));
        props.put(OnnxExporter.META_ARCHITECTURE, student.describe());
        props.put(META_ARCH, "transformer");
        props.put(META_TRANSFORMER, json(shape(student)));
        props.putAll(meta.extra());
        props.forEach((k, v) -> model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return model.build().toByteArray();
    }

    private static Map<String, String> shape(TransformerStudent student) {
        EncoderSpec s = student.encoder().spec();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("vocab", String.valueOf(s.vocab()));
        m.put("width", String.valueOf(s.width()));
        m.put("layers", String.valueOf(s.layers()));
        m.put("heads", String.valueOf(s.heads()));
        m.put("ffn", String.valueOf(s.ffn()));
        m.put("maxPositions", String.valueOf(s.maxPositions()));
        m.put("typeVocab", String.valueOf(s.typeVocab()));
        m.put("eps", String.valueOf(s.eps()));
        m.put("pooling", s.pooling().name());
        m.put("outputs", String.valueOf(student.outputs()));
        m.put("unitPooled", String.valueOf(student.unitPooled()));
        return m;
    }

    /**
     * The student a file {@link #export} wrote, from its metadata and initializers: what finetune trains on.
     * Only the first token-type row is in the file (the only one a student uses); the others come back as zeros.
     *
     * @param meta    the file's metadata
     * @param tensors its initializers, read by {@code floats(name, expectedLength)}
     * @throws IllegalArgumentException when the file does not say its shape (written before it did) or its tensors do not fit it
     */
    public static TransformerStudent read(Map<String, String> meta, java.util.function.BiFunction<String, Integer, float[]> tensors) {
        String shapeJson = meta.get(META_TRANSFORMER);
        if (shapeJson == null) {
            throw new IllegalArgumentException("this transformer student (" + meta.get(OnnxExporter.META_ARCHITECTURE) + ") was exported"
                    + " before StreamDistill wrote a transformer's shape into its file ('" + META_TRANSFORMER + "' metadata), so it"
                    + " cannot be read back; publish it again with this version's trainer (a replay of its topic does)");
        }
        Map<String, String> shape;
        Task task;
        java.util.List<String> classes;
        try {
            ObjectMapper json = new ObjectMapper();
            shape = json.readValue(shapeJson, new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() { });
            task = Task.valueOf(meta.get(OnnxExporter.META_TASK));
            classes = json.readValue(meta.getOrDefault(OnnxExporter.META_CLASS_NAMES, "[]"),
                    new com.fasterxml.jackson.core.type.TypeReference<java.util.List<String>>() { });
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException("the transformer student's metadata is unreadable: " + e.getMessage(), e);
        }
        EncoderSpec spec;
        int outputs;
        boolean unitPooled;
        try {
            spec = new EncoderSpec(integer(shape, "vocab"), integer(shape, "width"), integer(shape, "layers"), integer(shape, "heads"),
                    integer(shape, "ffn"), integer(shape, "maxPositions"), integer(shape, "typeVocab"),
                    Float.parseFloat(value(shape, "eps")), EncoderSpec.Pooling.valueOf(value(shape, "pooling")));
            outputs = integer(shape, "outputs");
            unitPooled = Boolean.parseBoolean(value(shape, "unitPooled"));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the transformer student's '" + META_TRANSFORMER + "' metadata has a bad number: "
                    + e.getMessage(), e);
        }
        EncoderParams params = EncoderParams.zeros(spec);
        int d = spec.width();
        params.tensors().forEach((name, into) -> {
            if (name.equals(EncoderParams.TYPE)) {
                System.arraycopy(tensors.apply(EncoderParams.TYPE + ".row0", d), 0, into, 0, d);
            } else {
                System.arraycopy(tensors.apply(name, into.length), 0, into, 0, into.length);
            }
        });
        TransformerStudent student = new TransformerStudent(task, classes, outputs, params, unitPooled);
        System.arraycopy(tensors.apply("head.weight", d * outputs), 0, student.headWeight(), 0, d * outputs);
        System.arraycopy(tensors.apply("head.bias", outputs), 0, student.headBias(), 0, outputs);
        return student;
    }

    private static String value(Map<String, String> shape, String key) {
        String v = shape.get(key);
        if (v == null) {
            throw new IllegalArgumentException("the transformer student's '" + META_TRANSFORMER + "' metadata has no '" + key + "'");
        }
        return v;
    }

    private static int integer(Map<String, String> shape, String key) {
        return Integer.parseInt(value(shape, key));
    }

    private static String json(Object o) {
        try {
            return new ObjectMapper().writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
