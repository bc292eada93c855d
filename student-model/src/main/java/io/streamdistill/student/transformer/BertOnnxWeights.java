package io.streamdistill.student.transformer;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a BERT-style encoder (MiniLM, BERT, bge, e5: a Hugging Face export to ONNX) from its
 * initializers, DistilBERT's way of starting a student: the teacher's embeddings and the blocks it
 * chooses. Biases and LayerNorms are initializers under their PyTorch names; each projection's weight
 * is the [in, out] second input of the MatMul node named after its module
 * ({@code /encoder/layer.0/attention/self/query/MatMul}), or an initializer under its own name.
 */
public final class BertOnnxWeights {
    private static final Pattern MATMUL = Pattern.compile("/encoder/layer\\.(\\d+)/(.+)/MatMul");
    private static final Pattern BLOCK = Pattern.compile("encoder\\.layer\\.(\\d+)\\.(.+)");

    private final Map<String, TensorProto> tensors = new HashMap<>();
    private final int teacherLayers;
    private final int headDim;

    private BertOnnxWeights(ModelProto model) {
        Map<String, TensorProto> initializers = new HashMap<>();
        for (TensorProto t : model.getGraph().getInitializerList()) {
            initializers.put(t.getName(), t);
            tensors.put(t.getName(), t);
        }
        int headDim = 0;
        for (NodeProto n : model.getGraph().getNodeList()) {
            Matcher m = MATMUL.matcher(n.getName());
            if (n.getOpType().equals("MatMul") && m.matches() && n.getInputCount() == 2 && initializers.containsKey(n.getInput(1))) {
                tensors.put("encoder.layer." + m.group(1) + "." + m.group(2).replace('/', '.') + ".weight", initializers.get(n.getInput(1)));
            }
            // The attention scores are divided by sqrt(head size): a scalar constant under layer 0's self-attention.
            if (n.getOpType().equals("Constant") && n.getOutput(0).startsWith("/encoder/layer.0/attention/self/")
                    && n.getAttributeCount() > 0 && n.getAttribute(0).hasT()) {
                TensorProto t = n.getAttribute(0).getT();
                if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE && t.getDimsCount() == 0) {
                    float v = scalar(t);
                    if (v > 1) {
                        headDim = Math.round(v * v);
                    }
                }
            }
        }
        this.headDim = headDim;
        int layers = 0;
        for (String name : tensors.keySet()) {
            Matcher m = BLOCK.matcher(name);
            if (m.matches()) {
                layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
            }
        }
        this.teacherLayers = layers;
        if (!tensors.containsKey(EncoderParams.WORD)) {
            throw new IllegalArgumentException("not a BERT-style encoder: no '" + EncoderParams.WORD + "' initializer");
        }
    }

    public static BertOnnxWeights read(Path onnx) throws IOException {
        return new BertOnnxWeights(ModelProto.parseFrom(Files.readAllBytes(onnx)));
    }

    /** Blocks the teacher has. */
    public int layers() {
        return teacherLayers;
    }

    /** The teacher's own shape, with all its blocks. */
    public EncoderSpec spec(EncoderSpec.Pooling pooling) {
        long[] word = dims(EncoderParams.WORD);
        int width = (int) word[1];
        if (headDim <= 0 || width % headDim != 0) {
            throw new IllegalArgumentException("cannot tell the teacher's attention heads from its graph (no 1/sqrt(head size) constant)");
        }
        int ffn = (int) dims("encoder.layer.0.intermediate.dense.bias")[0];
        int positions = (int) dims(EncoderParams.POSITION)[0];
        int types = tensors.containsKey(EncoderParams.TYPE) ? (int) dims(EncoderParams.TYPE)[0] : 0;
        return new EncoderSpec((int) word[0], width, teacherLayers, width / headDim, ffn, positions, types, 1e-12f, pooling);
    }

    /**
     * An encoder holding the teacher's embeddings and its blocks {@code blocks} (teacher block indices, in
     * order; student block i is teacher block {@code blocks[i]}), e.g. every other block as DistilBERT did.
     */
    public EncoderParams take(EncoderSpec.Pooling pooling, int... blocks) {
        EncoderSpec spec = spec(pooling).withLayers(blocks.length);
        EncoderParams p = EncoderParams.zeros(spec);
        for (Map.Entry<String, float[]> e : p.tensors().entrySet()) {
            String name = e.getKey();
            Matcher m = BLOCK.matcher(name);
            String source = name;
            if (m.matches()) {
                int student = Integer.parseInt(m.group(1));
                int teacher = blocks[student];
                if (teacher < 0 || teacher >= teacherLayers) {
                    throw new IllegalArgumentException("the teacher has blocks 0 to " + (teacherLayers - 1) + ", not " + teacher);
                }
                source = "encoder.layer." + teacher + "." + m.group(2);
            }
            copy(source, e.getValue());
        }
        return p;
    }

    private long[] dims(String name) {
        TensorProto t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("the teacher has no '" + name + "' tensor");
        }
        return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
    }

    private void copy(String name, float[] into) {
        TensorProto t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("the teacher has no '" + name + "' tensor");
        }
        if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
            throw new IllegalArgumentException("tensor '" + name + "' is not float32 (a quantized teacher?)");
        }
        int n = t.getRawData().isEmpty() ? t.getFloatDataCount() : t.getRawData().size() / 4;
        if (n != into.length) {
            throw new IllegalArgumentException("tensor '" + name + "' holds " + n + " values where the encoder needs " + into.length);
        }
        if (t.getRawData().isEmpty()) {
            for (int i = 0; i < n; i++) {
                into[i] = t.getFloatData(i);
            }
        } else {
            ByteBuffer.wrap(t.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(into);
        }
    }

    private static float scalar(TensorProto t) {
        return t.getRawData().isEmpty() ? t.getFloatData(0)
                : ByteBuffer.wrap(t.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN).getFloat();
    }
}
