package io.streamdistill.student.transformer;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.train.Rng;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The causal language model: its mask (a position never sees a later token), its loss gradients (next-token CE,
 * top-k + tail distillation, and both) against central finite differences through every tensor, and that it learns.
 */
class CausalLmTest {
    private static final EncoderSpec SPEC = new EncoderSpec(11, 8, 2, 2, 12, 8, 0, 1e-12f, EncoderSpec.Pooling.MEAN);
    private static final int[][] TOKENS = {{1, 4, 4, 2, 7}, {3, 7, 9, 10, 2, 5}, {6, 8}};

    private static EncoderParams params(long seed, double scale) {
        EncoderParams params = EncoderParams.random(SPEC, seed);
        Rng rng = new Rng(seed + 1);
        params.tensors().forEach((name, t) -> {
            if (!name.endsWith("LayerNorm.weight")) {
                for (int i = 0; i < t.length; i++) {
                    t[i] = (float) (rng.nextGaussian() * scale);
                }
            }
        });
        return params;
    }

    /** A teacher's top-k targets for every position of every sequence, from its own logits. */
    private static CausalLm.TopK[] targets(CausalLm teacher, int[][] tokens, int k) {
        float[] logits = teacher.logits(tokens);
        CausalLm.TopK[] out = new CausalLm.TopK[tokens.length];
        int row = 0;
        for (int s = 0; s < tokens.length; s++) {
            out[s] = CausalLm.TopK.of(logits, row * SPEC.vocab(), tokens[s].length, SPEC.vocab(), k);
            row += tokens[s].length;
        }
        return out;
    }

    @Test
    void aPositionNeverSeesALaterToken() {
        CausalLm lm = new CausalLm(params(1, 0.5), Gemm.REFERENCE);
        float[] before = lm.logits(new int[][] {{1, 4, 4, 2, 7}});
        float[] after = lm.logits(new int[][] {{1, 4, 4, 9, 3}});
        int vocab = SPEC.vocab();
        for (int j = 0; j < 3 * vocab; j++) {
            assertThat(after[j]).as("positions 0-2, entry %d", j).isEqualTo(before[j]);
        }
        boolean changed = false;
        for (int j = 3 * vocab; j < 5 * vocab; j++) {
            changed |= after[j] != before[j];
        }
        assertThat(changed).as("positions 3-4 see their own tokens").isTrue();
        // Without the mask the first position would see the whole sequence.
        Encoder bidirectional = new Encoder(lm.params(), Gemm.REFERENCE);
        assertThat(bidirectional.forward(new int[][] {{1, 4, 4, 2, 7}}).hidden()[0])
                .isNotEqualTo(bidirectional.forward(new int[][] {{1, 4, 4, 9, 3}}).hidden()[0]);
    }

    /**
     * The export in the causal-LM signature ({@code input_ids}, {@code attention_mask} → {@code logits} [batch, sequence,
     * vocab]) in ONNX Runtime equals the Java model at every real position of a right-padded batch.
     */
    @Test
    void theOnnxExportInTheCausalLmSignatureEqualsJava() throws Exception {
        EncoderParams params = params(13, 0.5);
        CausalLm lm = new CausalLm(params, Gemm.REFERENCE);
        int[][] sequences = {{1, 4, 4, 2, 7}, {3, 7}, {6, 8, 9, 10, 2, 5, 1}};
        int longest = 7;
        int vocab = SPEC.vocab();
        long[] ids = new long[sequences.length * longest];
        long[] mask = new long[ids.length];
        for (int s = 0; s < sequences.length; s++) {
            for (int t = 0; t < sequences[s].length; t++) {
                ids[s * longest + t] = sequences[s][t];
                mask[s * longest + t] = 1;
            }
        }
        long[] shape = {sequences.length, longest};
        ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
        double worst = 0;
        try (ai.onnxruntime.OrtSession session = env.createSession(EncoderOnnx.exportCausalLm(params),
                new ai.onnxruntime.OrtSession.SessionOptions());
             ai.onnxruntime.OnnxTensor in = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(ids), shape);
             ai.onnxruntime.OnnxTensor m = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(mask), shape);
             ai.onnxruntime.OrtSession.Result r = session.run(Map.of("input_ids", in, "attention_mask", m))) {
            float[][][] onnx = (float[][][]) r.get("logits").orElseThrow().getValue();
            assertThat(onnx[0][0]).hasSize(vocab);
            for (int s = 0; s < sequences.length; s++) {
                float[] java = lm.logits(new int[][] {sequences[s]});
                for (int t = 0; t < sequences[s].length; t++) {
                    for (int j = 0; j < vocab; j++) {
                        worst = Math.max(worst, Math.abs(onnx[s][t][j] - java[t * vocab + j]));
                    }
                }
            }
        }
        assertThat(worst).as("largest difference of a logit").isLessThan(1e-4);
    }

    @Test
    void crossEntropyGradient() {
        gradientCheck(null, 0f);
    }

    @Test
    void distillationGradientOverTheTopKAndTheTail() {
        gradientCheck(targets(new CausalLm(params(9, 1.0), Gemm.REFERENCE), TOKENS, 3), 1f);
    }

    @Test
    void distillationAndCrossEntropyTogether() {
        gradientCheck(targets(new CausalLm(params(9, 1.0), Gemm.REFERENCE), TOKENS, 4), 0.6f);
    }

    private static void gradientCheck(CausalLm.TopK[] teacher, float alpha) {
        EncoderParams params = params(5, 0.5);
        CausalLm lm = new CausalLm(params, Gemm.REFERENCE);
        Supplier<Double> loss = () -> lm.loss(TOKENS, teacher, alpha, null);
        EncoderParams grads = EncoderParams.zeros(SPEC);
        lm.loss(TOKENS, teacher, alpha, grads);
        int checked = 0;
        for (Map.Entry<String, float[]> e : params.tensors().entrySet()) {
            float[] values = e.getValue();
            float[] g = grads.get(e.getKey());
            int step = Math.max(1, values.length / 6);
            for (int i = (int) (e.getKey().hashCode() & 0x7fffffffL) % step; i < values.length; i += step) {
                EncoderGradientTest.assertClose(e.getKey() + "[" + i + "]", g[i], EncoderGradientTest.numeric(values, i, loss));
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(100);
    }

    /**
     * A student copying its teacher (the same weights) has nothing to learn: distillation loss 0 at every k. A fresh
     * student distilled from the teacher by plain gradient descent comes close to it: its KL falls by more than
     * half, and on a repeating text CE alone takes perplexity from about the vocabulary's size to near 1.
     */
    @Test
    void itLearnsFromTextAndFromATeacher() {
        EncoderParams teacherParams = params(21, 0.4);
        CausalLm teacher = new CausalLm(teacherParams, Gemm.REFERENCE);
        CausalLm.TopK[] full = targets(teacher, TOKENS, SPEC.vocab());
        assertThat(teacher.loss(TOKENS, full, 1f, null)).isCloseTo(0, org.assertj.core.data.Offset.offset(1e-5));
        assertThat(teacher.loss(TOKENS, targets(teacher, TOKENS, 3), 1f, null)).isCloseTo(0, org.assertj.core.data.Offset.offset(1e-5));

        CausalLm student = new CausalLm(params(33, 0.1), Gemm.REFERENCE);
        CausalLm.TopK[] top3 = targets(teacher, TOKENS, 3);
        double start = student.loss(TOKENS, top3, 1f, null);
        descend(student, TOKENS, top3, 1f, 300, 0.5f);
        assertThat(student.loss(TOKENS, top3, 1f, null)).as("KL after training, from %s", start).isLessThan(start / 2);

        int[][] repeating = {{1, 2, 3, 4, 1, 2, 3, 4}, {2, 3, 4, 1, 2, 3, 4, 1}};
        CausalLm text = new CausalLm(params(41, 0.1), Gemm.REFERENCE);
        assertThat(text.perplexity(repeating)).isGreaterThan(5);
        descend(text, repeating, null, 0f, 300, 0.5f);
        assertThat(text.perplexity(repeating)).isLessThan(1.5);
    }

    private static void descend(CausalLm lm, int[][] tokens, CausalLm.TopK[] teacher, float alpha, int steps, float rate) {
        for (int step = 0; step < steps; step++) {
            EncoderParams grads = EncoderParams.zeros(SPEC);
            lm.loss(tokens, teacher, alpha, grads);
            lm.params().tensors().forEach((name, t) -> {
                float[] g = grads.get(name);
                for (int i = 0; i < t.length; i++) {
                    t[i] -= rate * g[i];
                }
            });
        }
    }
}
