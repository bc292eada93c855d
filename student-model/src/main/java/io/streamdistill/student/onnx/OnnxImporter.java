package io.streamdistill.student.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import io.streamdistill.student.transformer.TransformerOnnx;
import io.streamdistill.student.transformer.TransformerStudent;
import io.streamdistill.student.transformer.TransformerTrainer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a student back from the ONNX file its exporter wrote ({@link OnnxExporter} for a bag,
 * {@link TransformerOnnx} for a transformer): the architecture from its metadata and the parameters
 * from its initializers. What a student
 * needs only while training (feature distillation's projection, Adam's moments) is not in the file;
 * the projection comes back as the config's seeded initial values.
 */
public final class OnnxImporter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TRANSFORMER = "transformer";

    /**
     * A bag student back from its file.
     *
     * @throws IllegalArgumentException when the bytes are not a StreamDistill bag student, or its tensors
     *                                  do not fit its own architecture
     */
    public static Student read(byte[] onnx) {
        ModelProto model = parse(onnx);
        Map<String, String> meta = metadata(model);
        if (TRANSFORMER.equals(meta.get(TransformerOnnx.META_ARCH))) {
            throw new IllegalArgumentException("this is a transformer student (" + meta.get(OnnxExporter.META_ARCHITECTURE)
                    + "), not a bag: read it with readLearner");
        }
        return bag(meta, tensors(model));
    }

    /**
     * Any student file back as a learner that trains with {@code training} from fresh optimiser state
     * (step 0, zero moments): a bag student or a transformer, whichever the file holds. This is how
     * finetune starts from a published version.
     *
     * @throws IllegalArgumentException when the bytes are not a StreamDistill student, or its tensors do not fit its shape
     */
    public static Learner readLearner(byte[] onnx, TrainingConfig training, Gemm gemm) {
        ModelProto model = parse(onnx);
        Map<String, String> meta = metadata(model);
        Map<String, TensorProto> tensors = tensors(model);
        if (TRANSFORMER.equals(meta.get(TransformerOnnx.META_ARCH))) {
            TransformerStudent student = TransformerOnnx.read(meta, (name, length) -> floats(tensors, name, length));
            return new TransformerTrainer(student, training, gemm);
        }
        return StudentTrainer.create(bag(meta, tensors), training);
    }

    private static ModelProto parse(byte[] onnx) {
        try {
            return ModelProto.parseFrom(onnx);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("not an ONNX model: " + e.getMessage(), e);
        }
    }

    private static Map<String, String> metadata(ModelProto model) {
        Map<String, String> meta = new HashMap<>();
        for (StringStringEntryProto p : model.getMetadataPropsList()) {
            meta.put(p.getKey(), p.getValue());
        }
        return meta;
    }

    private static Map<String, TensorProto> tensors(ModelProto model) {
        Map<String, TensorProto> tensors = new HashMap<>();
        for (TensorProto t : model.getGraph().getInitializerList()) {
            tensors.put(t.getName(), t);
        }
        return tensors;
    }

    private static Student bag(Map<String, String> meta, Map<String, TensorProto> tensors) {
        String configJson = meta.get(OnnxExporter.META_STUDENT);
        if (configJson == null) {
            throw new IllegalArgumentException("the ONNX model has no '" + OnnxExporter.META_STUDENT
                    + "' metadata: it was not exported by StreamDistill's trainer");
        }
        StudentConfig config;
        try {
            config = StudentConfig.fromMap(JSON.readValue(configJson, new TypeReference<Map<String, String>>() { }));
        } catch (IOException e) {
            throw new IllegalArgumentException("the model's '" + OnnxExporter.META_STUDENT + "' metadata is not a JSON map: "
                    + e.getMessage(), e);
        }
        Student student = new Student(config);
        float[][] p = student.parameters();
        int d = config.embeddingDim();
        copy(tensors, "tokens", p[Student.TOKENS]);
        if (config.bigramBuckets() > 0) {
            copy(tensors, "bigrams", p[Student.BIGRAMS]);
        }
        if (config.hiddenDim() > 0) {
            untranspose(floats(tensors, "w1_t", p[2].length), d, config.hiddenDim(), p[2]);
            copy(tensors, "b1", p[3]);
        }
        untranspose(floats(tensors, "w2_t", p[4].length), config.headInputDim(), config.outputDim(), p[4]);
        copy(tensors, "b2", p[5]);
        return student;
    }

    private static void copy(Map<String, TensorProto> tensors, String name, float[] into) {
        System.arraycopy(floats(tensors, name, into.length), 0, into, 0, into.length);
    }

    private static float[] floats(Map<String, TensorProto> tensors, String name, int expected) {
        TensorProto t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("the ONNX model has no '" + name + "' tensor its architecture needs");
        }
        float[] out = new float[expected];
        if (!t.getRawData().isEmpty()) {
            if (t.getRawData().size() != expected * 4L) {
                throw new IllegalArgumentException("tensor '" + name + "' holds " + t.getRawData().size() / 4 + " values where the"
                        + " architecture implies " + expected);
            }
            ByteBuffer.wrap(t.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        } else {
            if (t.getFloatDataCount() != expected) {
                throw new IllegalArgumentException("tensor '" + name + "' holds " + t.getFloatDataCount() + " values where the"
                        + " architecture implies " + expected);
            }
            for (int i = 0; i < expected; i++) {
                out[i] = t.getFloatData(i);
            }
        }
        return out;
    }

    /** The exporter's [in, out] MatMul layout back to the student's row-major [out, in]. */
    private static void untranspose(float[] t, int in, int out, float[] into) {
        for (int r = 0; r < out; r++) {
            for (int c = 0; c < in; c++) {
                into[r * in + c] = t[c * out + r];
            }
        }
    }

    private OnnxImporter() {
    }
}
