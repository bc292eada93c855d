package io.streamdistill.student.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Builds an ONNX graph node by node with ONNX's protobuf classes: each {@link #node} names its output
 * after its operator and returns that name, so a graph reads as nested calls. Initializers are added
 * under the names given.
 */
public final class OnnxGraph {
    private final GraphProto.Builder graph;
    private int counter;

    public OnnxGraph(String name) {
        this.graph = GraphProto.newBuilder().setName(name);
    }

    public GraphProto.Builder proto() {
        return graph;
    }

    /** Adds {@code op} on {@code inputs} with the given attributes; returns its (only) output's name. */
    public String node(String op, AttributeProto[] attributes, String... inputs) {
        String out = op.toLowerCase() + "_" + (counter++);
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(out).addOutput(out);
        for (String in : inputs) {
            n.addInput(in);
        }
        if (attributes != null) {
            for (AttributeProto a : attributes) {
                n.addAttribute(a);
            }
        }
        graph.addNode(n);
        return out;
    }

    public String node(String op, AttributeProto attribute, String... inputs) {
        return node(op, attribute == null ? null : new AttributeProto[] {attribute}, inputs);
    }

    /** Adds {@code op} writing to the graph output {@code output}. */
    public void nodeTo(String output, String op, AttributeProto attribute, String... inputs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(output).addOutput(output);
        for (String in : inputs) {
            n.addInput(in);
        }
        if (attribute != null) {
            n.addAttribute(attribute);
        }
        graph.addNode(n);
    }

    public static AttributeProto attr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    public static AttributeProto attr(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    public static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    /** An int64 input of shape [batch, sequence]. */
    public void int64Input(String name) {
        graph.addInput(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.INT64_VALUE)
                        .setShape(TensorShapeProto.newBuilder()
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("sequence"))))).build());
    }

    /** A float output of shape [batch, width] ({@code width} fixed). */
    /** A float output [batch, sequence, width], as a causal language model's {@code logits}. */
    public void floatSequenceOutput(String name, int width) {
        graph.addOutput(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)
                        .setShape(TensorShapeProto.newBuilder()
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("sequence"))
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(width))))));
    }

    public void floatOutput(String name, int width) {
        graph.addOutput(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)
                        .setShape(TensorShapeProto.newBuilder()
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(width))))));
    }

    /** An int64 vector initializer (axes, shapes, slice bounds). */
    public String int64Vector(String name, long... values) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(values.length);
        for (long v : values) {
            t.addInt64Data(v);
        }
        graph.addInitializer(t);
        return name;
    }

    public String int64Scalar(String name, long value) {
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE)
                .addInt64Data(value));
        return name;
    }

    public String floatScalar(String name, float value) {
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addFloatData(value));
        return name;
    }

    public String floatInitializer(String name, float[] values, int... dims) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(buf.array()));
        for (int dim : dims) {
            t.addDims(dim);
        }
        graph.addInitializer(t);
        return name;
    }
}
