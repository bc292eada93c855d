package io.streamdistill.student.transformer;

import io.streamdistill.student.train.Rng;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An encoder's parameters as named tensors, in a fixed order, under the names of a Hugging Face BERT
 * export ({@code embeddings.word_embeddings.weight}, {@code encoder.layer.0.attention.self.query.weight},
 * ...). Matrices are stored [in, out] (row-major), the layout of the exported MatMul initializers.
 * The same class holds gradients (same names and shapes).
 */
public final class EncoderParams {
    public static final String WORD = "embeddings.word_embeddings.weight";
    public static final String POSITION = "embeddings.position_embeddings.weight";
    public static final String TYPE = "embeddings.token_type_embeddings.weight";
    public static final String EMB_LN = "embeddings.LayerNorm";

    private final EncoderSpec spec;
    private final Map<String, float[]> tensors = new LinkedHashMap<>();

    private EncoderParams(EncoderSpec spec) {
        this.spec = spec;
        int d = spec.width();
        tensors.put(WORD, new float[spec.vocab() * d]);
        tensors.put(POSITION, new float[spec.maxPositions() * d]);
        if (spec.typeVocab() > 0) {
            tensors.put(TYPE, new float[spec.typeVocab() * d]);
        }
        tensors.put(EMB_LN + ".weight", new float[d]);
        tensors.put(EMB_LN + ".bias", new float[d]);
        for (int l = 0; l < spec.layers(); l++) {
            String p = layer(l);
            for (String m : new String[] {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"}) {
                tensors.put(p + m + ".weight", new float[d * d]);
                tensors.put(p + m + ".bias", new float[d]);
            }
            tensors.put(p + "attention.output.LayerNorm.weight", new float[d]);
            tensors.put(p + "attention.output.LayerNorm.bias", new float[d]);
            tensors.put(p + "intermediate.dense.weight", new float[d * spec.ffn()]);
            tensors.put(p + "intermediate.dense.bias", new float[spec.ffn()]);
            tensors.put(p + "output.dense.weight", new float[spec.ffn() * d]);
            tensors.put(p + "output.dense.bias", new float[d]);
            tensors.put(p + "output.LayerNorm.weight", new float[d]);
            tensors.put(p + "output.LayerNorm.bias", new float[d]);
        }
    }

    /** All zeros: a gradient accumulator, or a container to fill. */
    public static EncoderParams zeros(EncoderSpec spec) {
        return new EncoderParams(spec);
    }

    /** BERT's initialisation: weights and embeddings from N(0, 0.02²), biases 0, LayerNorm gains 1. */
    public static EncoderParams random(EncoderSpec spec, long seed) {
        EncoderParams p = new EncoderParams(spec);
        Rng rng = new Rng(seed);
        p.tensors.forEach((name, t) -> {
            if (name.endsWith("LayerNorm.weight")) {
                java.util.Arrays.fill(t, 1f);
            } else if (name.endsWith(".weight")) {
                for (int i = 0; i < t.length; i++) {
                    t[i] = (float) (rng.nextGaussian() * 0.02);
                }
            }
        });
        return p;
    }

    static String layer(int l) {
        return "encoder.layer." + l + ".";
    }

    public EncoderSpec spec() {
        return spec;
    }

    /** The named tensors, in their fixed order (the map is live: its arrays are the parameters). */
    public Map<String, float[]> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public float[] get(String name) {
        float[] t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("the encoder has no tensor '" + name + "'");
        }
        return t;
    }

    public long parameterCount() {
        long n = 0;
        for (float[] t : tensors.values()) {
            n += t.length;
        }
        return n;
    }

    /** Sets every value to zero (gradients between steps). */
    public void clear() {
        tensors.values().forEach(t -> java.util.Arrays.fill(t, 0f));
    }
}
