package io.streamdistill.student.transformer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.tokenize.MiniLmFiles;
import io.streamdistill.student.tokenize.TextTokenizer;
import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DistilBERT's start: a student given the teacher's embeddings and blocks. Given all six of
 * all-MiniLM-L6-v2's blocks, the Java encoder reproduces the teacher's last hidden states as ONNX
 * Runtime computes them from the same file.
 */
class TeacherLayersTest {
    private static final List<String> TEXTS = List.of("a small furry animal that eats plants",
            "The committee postponed its decision until the spring.", "ok");
    private static BertOnnxWeights teacher;
    private static TextTokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        teacher = BertOnnxWeights.read(MiniLmFiles.model());
        tokenizer = TextTokenizer.load(MiniLmFiles.tokenizer(), "all-MiniLM-L6-v2", 128);
    }

    @Test
    void theTeachersShapeIsReadFromItsGraph() {
        EncoderSpec spec = teacher.spec(EncoderSpec.Pooling.MEAN);
        assertThat(teacher.layers()).isEqualTo(6);
        assertThat(spec).isEqualTo(new EncoderSpec(30522, 384, 6, 12, 1536, 512, 2, 1e-12f, EncoderSpec.Pooling.MEAN));
    }

    @Test
    void allTheTeachersBlocksReproduceItsHiddenStates() throws Exception {
        Encoder student = new Encoder(teacher.take(EncoderSpec.Pooling.MEAN, 0, 1, 2, 3, 4, 5), Gemm.REFERENCE);
        int[][] ids = tokenizer.encode(TEXTS);
        Encoder.Activations a = student.forward(ids);
        float[] hidden = a.hidden();
        double worst = 0;
        int row = 0;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(MiniLmFiles.model().toString(), new OrtSession.SessionOptions())) {
            for (int[] seq : ids) {
                float[][][] expected = teacherHidden(env, session, seq);
                for (int t = 0; t < seq.length; t++, row++) {
                    for (int i = 0; i < 384; i++) {
                        worst = Math.max(worst, Math.abs(expected[0][t][i] - hidden[row * 384 + i]));
                    }
                }
            }
        }
        System.out.printf("MiniLM-L6 in Java against ONNX Runtime: largest difference of a hidden state %.2e%n", worst);
        assertThat(worst).as("largest absolute difference of a last hidden state").isLessThan(1e-4);
    }

    /**
     * The student given all the teacher's blocks and the teacher's head (on the unit mean-pooled embedding, as the
     * demo's classification teachers are) answers exactly as the teacher does: what DistilBERT's start means.
     */
    @Test
    void allBlocksAndTheTeachersHeadAnswerAsTheTeacher() throws Exception {
        int classes = 3;
        io.streamdistill.student.train.Rng rng = new io.streamdistill.student.train.Rng(5);
        float[][] w = new float[classes][384];
        float[] b = new float[classes];
        for (int k = 0; k < classes; k++) {
            for (int j = 0; j < 384; j++) {
                w[k][j] = (float) (rng.nextGaussian() * 3);
            }
            b[k] = (float) rng.nextGaussian();
        }
        TransformerStudent student = new TransformerStudent(io.streamdistill.student.model.Task.CLASSIFICATION, List.of("x", "y", "z"),
                classes, teacher.take(EncoderSpec.Pooling.MEAN, 0, 1, 2, 3, 4, 5), true).headFrom(w, b);
        int[][] ids = tokenizer.encode(TEXTS);
        float[][] answers = new TransformerTrainer(student, io.streamdistill.student.train.TrainingConfig.defaults(), Gemm.REFERENCE)
                .predict(ids);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(MiniLmFiles.model().toString(), new OrtSession.SessionOptions())) {
            for (int s = 0; s < ids.length; s++) {
                float[][] hidden = teacherHidden(env, session, ids[s])[0];
                double[] unit = new double[384];
                double norm = 0;
                for (int i = 0; i < 384; i++) {
                    for (float[] token : hidden) {
                        unit[i] += token[i] / hidden.length;
                    }
                    norm += unit[i] * unit[i];
                }
                double[] logits = new double[classes];
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < classes; k++) {
                    logits[k] = b[k];
                    for (int i = 0; i < 384; i++) {
                        logits[k] += w[k][i] * unit[i] / Math.sqrt(norm);
                    }
                    max = Math.max(max, logits[k]);
                }
                double sum = 0;
                for (int k = 0; k < classes; k++) {
                    sum += Math.exp(logits[k] - max);
                }
                for (int k = 0; k < classes; k++) {
                    assertThat((double) answers[s][k]).as("text %d class %d", s, k)
                            .isCloseTo(Math.exp(logits[k] - max) / sum, org.assertj.core.data.Offset.offset(1e-4));
                }
            }
        }
    }

    @Test
    void everyOtherBlockMakesAThreeBlockStudent() {
        EncoderParams p = teacher.take(EncoderSpec.Pooling.MEAN, 1, 3, 5);
        assertThat(p.spec().layers()).isEqualTo(3);
        assertThat(p.get("encoder.layer.1.attention.self.query.bias")).as("student block 1 is teacher block 3")
                .isEqualTo(teacher.take(EncoderSpec.Pooling.MEAN, 0, 1, 2, 3, 4, 5).get("encoder.layer.3.attention.self.query.bias"));
        float[] pooled = new Encoder(p, Gemm.REFERENCE).forward(tokenizer.encode(TEXTS)).pooled();
        assertThat(pooled).hasSize(3 * 384);
        for (float f : pooled) {
            assertThat(Float.isFinite(f)).isTrue();
        }
    }

    private static float[][][] teacherHidden(OrtEnvironment env, OrtSession session, int[] seq) throws Exception {
        long[] ids = new long[seq.length];
        long[] mask = new long[seq.length];
        for (int i = 0; i < seq.length; i++) {
            ids[i] = seq[i];
            mask[i] = 1;
        }
        long[] shape = {1, seq.length};
        try (OnnxTensor in = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
             OnnxTensor m = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
             OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[seq.length]), shape);
             OrtSession.Result r = session.run(Map.of("input_ids", in, "attention_mask", m, "token_type_ids", types))) {
            return (float[][][]) r.get(0).getValue();
        }
    }
}
