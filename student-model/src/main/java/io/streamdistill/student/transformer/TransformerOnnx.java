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
        props.putAll(meta.extra());
        props.forEach((k, v) -> model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return model.build().toByteArray();
    }

    private static String json(Object o) {
        try {
            return new ObjectMapper().writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
