package io.streamdistill.student.train;

import java.util.ArrayList;
import java.util.List;

/**
 * A fixed random teacher over token bags: its own hidden token vectors, mean-pooled, mapped
 * linearly to class logits or to an embedding. A student of enough width can match it exactly,
 * so training must get close.
 */
final class SyntheticTeacher {
    final int vocab;
    final int dim;
    final int outputs;
    private final float[] tokenVectors;
    private final float[] head;
    private final float scale;

    SyntheticTeacher(int vocab, int dim, int outputs, float scale, long seed) {
        this.vocab = vocab;
        this.dim = dim;
        this.outputs = outputs;
        this.scale = scale;
        Rng rng = new Rng(seed);
        tokenVectors = new float[vocab * dim];
        for (int i = 0; i < tokenVectors.length; i++) {
            tokenVectors[i] = (float) rng.nextGaussian();
        }
        head = new float[outputs * dim];
        for (int i = 0; i < head.length; i++) {
            head[i] = (float) (rng.nextGaussian() / Math.sqrt(dim));
        }
    }

    float[] output(int[] ids) {
        float[] pooled = new float[dim];
        for (int id : ids) {
            for (int j = 0; j < dim; j++) {
                pooled[j] += tokenVectors[id * dim + j] / ids.length;
            }
        }
        float[] out = new float[outputs];
        for (int k = 0; k < outputs; k++) {
            for (int j = 0; j < dim; j++) {
                out[k] += head[k * dim + j] * pooled[j] * scale;
            }
        }
        return out;
    }

    /** Texts of 8..30 random tokens with the teacher's output. */
    List<Example> examples(int n, long seed) {
        Rng rng = new Rng(seed);
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int[] ids = new int[8 + (int) (rng.nextDouble() * 23)];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = (int) (rng.nextDouble() * vocab);
            }
            out.add(Example.unlabelled(ids, output(ids)));
        }
        return out;
    }
}
