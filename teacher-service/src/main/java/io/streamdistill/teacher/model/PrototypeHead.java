package io.streamdistill.teacher.model;

import io.streamdistill.student.Hashing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A few labelled example texts per class become class prototypes (the normalised mean of their
 * normalised embeddings); logits are {@code scale * cosine(embedding, prototype)}.
 */
public final class PrototypeHead implements ClassificationHead {
    private final List<String> classes;
    private final float[][] prototypes;
    private final float scale;
    private final String fingerprint;

    private PrototypeHead(List<String> classes, float[][] prototypes, float scale, String fingerprint) {
        this.classes = classes;
        this.prototypes = prototypes;
        this.scale = scale;
        this.fingerprint = fingerprint;
    }

    /** Embeds every example with {@code embedder} and averages per class. */
    public static PrototypeHead build(Map<String, List<String>> examples, float scale, Embedder embedder) {
        List<String> classes = new ArrayList<>(examples.keySet());
        float[][] prototypes = new float[classes.size()][];
        StringBuilder content = new StringBuilder().append(scale);
        for (int c = 0; c < classes.size(); c++) {
            List<String> texts = examples.get(classes.get(c));
            float[][] vectors = embedder.embed(texts);
            float[] mean = new float[vectors[0].length];
            for (float[] v : vectors) {
                float[] unit = Vectors.normalized(v);
                for (int j = 0; j < mean.length; j++) {
                    mean[j] += unit[j] / vectors.length;
                }
            }
            prototypes[c] = Vectors.normalized(mean);
            content.append('\u001e').append(classes.get(c));
            texts.forEach(t -> content.append('\u001f').append(t));
        }
        return new PrototypeHead(List.copyOf(classes), prototypes, scale,
                "prototypes:" + Hashing.sha256(content.toString().getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public List<String> classNames() {
        return classes;
    }

    @Override
    public float[] logits(float[] embedding) {
        float[] unit = Vectors.normalized(embedding);
        float[] out = new float[prototypes.length];
        for (int c = 0; c < prototypes.length; c++) {
            out[c] = scale * Vectors.dot(unit, prototypes[c]);
        }
        return out;
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    /** {@code W = scale * prototypes}, b = 0; it normalises the embedding itself, so its input is always unit length. */
    @Override
    public io.streamdistill.student.init.WarmStart.TeacherHead linear(boolean unitInput) {
        float[][] w = new float[prototypes.length][];
        for (int c = 0; c < prototypes.length; c++) {
            w[c] = prototypes[c].clone();
            for (int j = 0; j < w[c].length; j++) {
                w[c][j] *= scale;
            }
        }
        return new io.streamdistill.student.init.WarmStart.TeacherHead(classes, w, new float[prototypes.length], true);
    }

    /** The scale of the logits (logit = scale x cosine). */
    public float scale() {
        return scale;
    }

    /** Embeds texts; the teacher's encoder. */
    @FunctionalInterface
    public interface Embedder {
        float[][] embed(List<String> texts);
    }
}
