package io.streamdistill.teacher.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.student.Hashing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A linear head from a file: {@code {"classes": [...], "weights": [[...], ...], "bias": [...]}}; logits = W e + b. */
public final class LinearHead implements ClassificationHead {
    private final List<String> classes;
    private final float[][] weights;
    private final float[] bias;
    private final String fingerprint;

    private LinearHead(List<String> classes, float[][] weights, float[] bias, String fingerprint) {
        this.classes = classes;
        this.weights = weights;
        this.bias = bias;
        this.fingerprint = fingerprint;
    }

    public static LinearHead read(Path file, int embeddingDim) {
        byte[] bytes;
        JsonNode root;
        try {
            bytes = Files.readAllBytes(file);
            root = new ObjectMapper().readTree(bytes);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the linear head " + file + ": " + e.getMessage(), e);
        }
        List<String> classes = new ArrayList<>();
        root.path("classes").forEach(c -> classes.add(c.asText()));
        JsonNode w = root.path("weights");
        JsonNode b = root.path("bias");
        if (classes.size() < 2 || w.size() != classes.size() || (!b.isMissingNode() && b.size() != classes.size())) {
            throw new IllegalArgumentException("the linear head " + file + " needs 'classes' (>= 2), 'weights' with one row per"
                    + " class and optionally 'bias' with one value per class; got " + classes.size() + " classes, "
                    + w.size() + " weight rows, " + b.size() + " biases");
        }
        float[][] weights = new float[classes.size()][embeddingDim];
        float[] bias = new float[classes.size()];
        for (int c = 0; c < classes.size(); c++) {
            if (w.get(c).size() != embeddingDim) {
                throw new IllegalArgumentException("the linear head " + file + " row " + c + " has " + w.get(c).size()
                        + " weights; the teacher's embeddings have " + embeddingDim + " dimensions");
            }
            for (int j = 0; j < embeddingDim; j++) {
                weights[c][j] = (float) w.get(c).get(j).asDouble();
            }
            bias[c] = b.isMissingNode() ? 0f : (float) b.get(c).asDouble();
        }
        return new LinearHead(List.copyOf(classes), weights, bias, "linear:" + Hashing.sha256(bytes));
    }

    @Override
    public List<String> classNames() {
        return classes;
    }

    @Override
    public float[] logits(float[] embedding) {
        float[] out = new float[weights.length];
        for (int c = 0; c < weights.length; c++) {
            out[c] = bias[c] + Vectors.dot(weights[c], embedding);
        }
        return out;
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public io.streamdistill.student.init.WarmStart.TeacherHead linear(boolean unitInput) {
        float[][] w = new float[weights.length][];
        for (int c = 0; c < weights.length; c++) {
            w[c] = weights[c].clone();
        }
        return new io.streamdistill.student.init.WarmStart.TeacherHead(classes, w, bias.clone(), unitInput);
    }
}
