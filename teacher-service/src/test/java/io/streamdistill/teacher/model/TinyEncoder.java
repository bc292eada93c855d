package io.streamdistill.teacher.model;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.streamdistill.records.Task;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A tiny ONNX "encoder" with a closed-form output: the last hidden state at each position is the
 * token's row of a fixed table (times the attention mask). Mean pooling then gives the mean of the
 * rows, which a test can compute on its own. Uses the MiniLM tokenizer (its vocabulary).
 */
final class TinyEncoder {
    static final int WIDTH = 8;

    /** The table's value for token {@code id}, dimension {@code j}; {@code variant} makes another teacher. */
    static float value(int id, int j, int variant) {
        return (float) (Math.sin(0.013 * id * (j + 1) + variant) + 0.05 * j * Math.cos(0.7 * id));
    }

    static TeacherDescriptor write(Path dir, int vocab, int variant) throws IOException {
        GraphProto.Builder g = GraphProto.newBuilder().setName("tiny");
        g.addInput(input("input_ids"));
        g.addInput(input("attention_mask"));
        TensorProto.Builder table = TensorProto.newBuilder().setName("table").setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addDims(vocab).addDims(WIDTH);
        for (int id = 0; id < vocab; id++) {
            for (int j = 0; j < WIDTH; j++) {
                table.addFloatData(value(id, j, variant));
            }
        }
        g.addInitializer(table);
        g.addInitializer(TensorProto.newBuilder().setName("axes").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(2));
        g.addNode(NodeProto.newBuilder().setOpType("Gather").addInput("table").addInput("input_ids").addOutput("rows"));
        g.addNode(NodeProto.newBuilder().setOpType("Cast").addInput("attention_mask").addOutput("mask_f")
                .addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("to")
                        .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INT).setI(TensorProto.DataType.FLOAT_VALUE)));
        g.addNode(NodeProto.newBuilder().setOpType("Unsqueeze").addInput("mask_f").addInput("axes").addOutput("mask_3d"));
        g.addNode(NodeProto.newBuilder().setOpType("Mul").addInput("rows").addInput("mask_3d").addOutput("last_hidden_state"));
        g.addOutput(ValueInfoProto.newBuilder().setName("last_hidden_state").setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)
                        .setShape(TensorShapeProto.newBuilder()
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("sequence"))
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(WIDTH))))));
        ModelProto model = ModelProto.newBuilder().setIrVersion(8).setProducerName("streamdistill-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(g).build();
        Files.createDirectories(dir);
        Path file = dir.resolve("tiny-" + variant + ".onnx");
        Files.write(file, model.toByteArray());
        TeacherDescriptor minilm = BuiltInTeachers.ALL_MINILM_L6_V2.descriptor();
        return new TeacherDescriptor("tiny-" + variant, file, minilm.tokenizer(), Pooling.MEAN, true, "last_hidden_state", 32,
                Task.EMBEDDING, null);
    }

    private static ValueInfoProto input(String name) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.INT64_VALUE).setShape(TensorShapeProto.newBuilder()
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("sequence"))))).build();
    }

    private TinyEncoder() {
    }
}
