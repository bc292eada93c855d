package io.streamdistill.student.transformer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.tokenize.MiniLmFiles;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Rng;
import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The exported encoder in ONNX Runtime equals the Java forward pass, on a padded batch of unequal sequences. */
class EncoderOnnxTest {

    @Test
    void aRandomEncoderExportsExactlyWithMeanPooling() throws Exception {
        assertExportMatches(randomEncoder(EncoderSpec.Pooling.MEAN), new int[][] {{1, 5, 9, 22, 2}, {1, 40, 2}, {3}, {1, 7, 7, 7, 8, 9, 30, 2}});
    }

    @Test
    void aRandomEncoderExportsExactlyWithClsPooling() throws Exception {
        assertExportMatches(randomEncoder(EncoderSpec.Pooling.CLS), new int[][] {{1, 5, 9, 22, 2}, {1, 40, 2}, {3}});
    }

    @Test
    void twoOfMiniLmsBlocksExportExactly() throws Exception {
        EncoderParams p = BertOnnxWeights.read(MiniLmFiles.model()).take(EncoderSpec.Pooling.MEAN, 0, 5);
        TextTokenizer tokenizer = TextTokenizer.load(MiniLmFiles.tokenizer(), "all-MiniLM-L6-v2", 128);
        assertExportMatches(p, tokenizer.encode(List.of("a small furry animal that eats plants", "ok",
                "The committee postponed its decision until the spring, citing the weather.")));
    }

    private static EncoderParams randomEncoder(EncoderSpec.Pooling pooling) {
        EncoderSpec spec = new EncoderSpec(50, 16, 2, 4, 32, 20, 2, 1e-12f, pooling);
        EncoderParams p = EncoderParams.random(spec, 9);
        Rng rng = new Rng(10);
        p.tensors().forEach((name, t) -> {
            for (int i = 0; i < t.length; i++) {
                t[i] += (float) (rng.nextGaussian() * 0.3);
            }
        });
        return p;
    }

    private static void assertExportMatches(EncoderParams params, int[][] sequences) throws Exception {
        float[] java = new Encoder(params, Gemm.REFERENCE).forward(sequences).pooled();
        int longest = 0;
        for (int[] s : sequences) {
            longest = Math.max(longest, s.length);
        }
        long[] ids = new long[sequences.length * longest];
        long[] mask = new long[ids.length];
        for (int s = 0; s < sequences.length; s++) {
            for (int t = 0; t < sequences[s].length; t++) {
                ids[s * longest + t] = sequences[s][t];
                mask[s * longest + t] = 1;
            }
        }
        long[] shape = {sequences.length, longest};
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int d = params.spec().width();
        double worst = 0;
        try (OrtSession session = env.createSession(EncoderOnnx.export(params), new OrtSession.SessionOptions());
             OnnxTensor in = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
             OnnxTensor m = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
             OrtSession.Result r = session.run(Map.of("input_ids", in, "attention_mask", m))) {
            float[][] onnx = (float[][]) r.get(EncoderOnnx.POOLED).orElseThrow().getValue();
            for (int s = 0; s < sequences.length; s++) {
                for (int i = 0; i < d; i++) {
                    worst = Math.max(worst, Math.abs(onnx[s][i] - java[s * d + i]));
                }
            }
        }
        System.out.printf("encoder %s in ONNX Runtime against Java: largest difference %.2e%n", params.spec(), worst);
        assertThat(worst).as("largest difference of a pooled value").isLessThan(1e-4);
    }
}
