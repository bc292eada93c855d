package io.streamdistill.student.init;

import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import java.util.List;
import java.util.Map;

/**
 * A student that works before it has trained on a single record: its token table is a
 * {@link StaticTable}'s, and its head is set from the teacher's.
 * <ul>
 *   <li>Embedding students map back to the teacher's space with the table's map:
 *       {@code out = map z + offset} ({@link Back#FITTED}), or with the inverse of the projection,
 *       {@code basis^T z + meanWeight * mean} ({@link Back#BASIS}).</li>
 *   <li>Classification students apply the teacher's head to that same vector: a head
 *       {@code W e + b} becomes {@code (W map / r) z + (W offset / r + b)}, where r is the
 *       reconstruction's typical length when the teacher's head reads unit embeddings (prototype
 *       heads, normalised encoders) and 1 otherwise. Prototype heads are {@code W = scale * prototypes}.</li>
 * </ul>
 * A hidden layer cannot be warm-started; bigram rows start at zero, so untrained bigrams change nothing.
 */
public final class WarmStart {

    /**
     * The teacher's classification head in the teacher's space: logits = {@code weights · e + bias}.
     *
     * @param unitInput whether e is the unit-length embedding (true for prototype heads and for
     *                  linear heads over a normalising encoder)
     */
    public record TeacherHead(List<String> classes, float[][] weights, float[] bias, boolean unitInput) {
        public TeacherHead {
            if (classes.size() < 2 || weights.length != classes.size() || bias.length != classes.size()) {
                throw new IllegalArgumentException("a teacher head needs >= 2 classes with one weight row and one bias each; got "
                        + classes.size() + " classes, " + weights.length + " rows, " + bias.length + " biases");
            }
        }

        /**
         * Writes the head in the teacher service's linear-head format ({@code classes}, {@code weights},
         * {@code bias}) plus {@code unit_input}, so the file is also a head the teacher can load.
         */
        public void write(java.nio.file.Path file) {
            Map<String, Object> json = new java.util.LinkedHashMap<>();
            json.put("classes", classes);
            json.put("weights", weights);
            json.put("bias", bias);
            json.put("unit_input", unitInput);
            try {
                java.nio.file.Files.createDirectories(file.toAbsolutePath().getParent());
                new com.fasterxml.jackson.databind.ObjectMapper().writeValue(file.toFile(), json);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot write the teacher head " + file, e);
            }
        }

        /** Reads a file of {@link #write}'s format ({@code unit_input} defaults to true). */
        public static TeacherHead read(java.nio.file.Path file) {
            com.fasterxml.jackson.databind.JsonNode root;
            try {
                root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile());
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("cannot read the teacher head " + file + ": " + e.getMessage(), e);
            }
            List<String> classes = new java.util.ArrayList<>();
            root.path("classes").forEach(c -> classes.add(c.asText()));
            com.fasterxml.jackson.databind.JsonNode w = root.path("weights");
            float[][] weights = new float[w.size()][];
            for (int c = 0; c < w.size(); c++) {
                weights[c] = new float[w.get(c).size()];
                for (int j = 0; j < weights[c].length; j++) {
                    weights[c][j] = (float) w.get(c).get(j).asDouble();
                }
            }
            float[] bias = new float[classes.size()];
            com.fasterxml.jackson.databind.JsonNode b = root.path("bias");
            for (int c = 0; c < bias.length && c < b.size(); c++) {
                bias[c] = (float) b.get(c).asDouble();
            }
            try {
                return new TeacherHead(classes, weights, bias, root.path("unit_input").asBoolean(true));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the teacher head " + file + " is malformed: " + e.getMessage(), e);
            }
        }
    }

    /** Which map back to the teacher's space a warm start uses. */
    public enum Back { FITTED, BASIS }

    /** The warm-started student of {@code config}, whose vocabulary and embedding width must be the table's. */
    public static Student student(StudentConfig config, StaticTable table, TeacherHead head) {
        return student(config, table, head, Back.FITTED);
    }

    public static Student student(StudentConfig config, StaticTable table, TeacherHead head, Back back) {
        check(config, table);
        Student s = new Student(config);
        float[][] p = s.parameters();
        System.arraycopy(table.table(), 0, p[Student.TOKENS], 0, table.table().length);
        java.util.Arrays.fill(p[Student.BIGRAMS], 0f);
        int d = table.dim();
        int m = table.teacherDim();
        // The map back as M (m x d) and c (m).
        float[] mapBack = new float[m * d];
        float[] offset = new float[m];
        if (back == Back.FITTED) {
            rotate(table, p[Student.TOKENS], mapBack);
            System.arraycopy(table.offset(), 0, offset, 0, m);
        } else {
            for (int j = 0; j < m; j++) {
                for (int k = 0; k < d; k++) {
                    mapBack[j * d + k] = table.basis()[k * m + j];
                }
                offset[j] = table.meanWeight() * table.mean()[j];
            }
        }
        float[] w2 = p[4];
        float[] b2 = p[5];
        if (config.featureDim() > 0) {
            // Feature distillation starts from the same map back: its loss starts where the table already is.
            if (config.featureDim() != m) {
                throw new IllegalArgumentException("the feature projection has " + config.featureDim() + " dimensions, the static"
                        + " table's teacher " + m);
            }
            System.arraycopy(mapBack, 0, p[Student.FEATURE_PROJECTION], 0, mapBack.length);
            System.arraycopy(offset, 0, p[Student.FEATURE_PROJECTION + 1], 0, m);
        }
        if (config.task() == Task.EMBEDDING) {
            if (config.outputDim() != m) {
                throw new IllegalArgumentException("the student's output has " + config.outputDim() + " dimensions, the static table's"
                        + " teacher " + m);
            }
            System.arraycopy(mapBack, 0, w2, 0, mapBack.length);
            System.arraycopy(offset, 0, b2, 0, m);
            return s;
        }
        if (head == null) {
            throw new IllegalArgumentException("a classification student needs the teacher's head to be warm-started");
        }
        if (!head.classes().equals(config.classNames())) {
            throw new IllegalArgumentException("the teacher head's classes " + head.classes() + " are not the student's "
                    + config.classNames());
        }
        float typical = back == Back.FITTED ? table.reconstructionNorm()
                : Float.parseFloat(table.info().getOrDefault("basis_norm", "1"));
        float r = head.unitInput() ? typical : 1f;
        for (int c = 0; c < head.classes().size(); c++) {
            float[] wc = head.weights()[c];
            if (wc.length != m) {
                throw new IllegalArgumentException("the teacher head reads " + wc.length + " dimensions, the static table's teacher has " + m);
            }
            for (int k = 0; k < d; k++) {
                double sum = 0;
                for (int j = 0; j < m; j++) {
                    sum += (double) wc[j] * mapBack[j * d + k];
                }
                w2[c * d + k] = (float) (sum / r);
            }
            double bias = 0;
            for (int j = 0; j < m; j++) {
                bias += (double) wc[j] * offset[j];
            }
            b2[c] = (float) (bias / r + head.bias()[c]);
        }
        return s;
    }

    /**
     * The alternative for prototype heads: prototypes built in the student's own space from the
     * prototype texts (token ids), {@code logits = scale * cos(z, prototype)} with |z| taken as its
     * typical length over those texts.
     */
    public static Student studentWithOwnPrototypes(StudentConfig config, StaticTable table, Map<String, List<int[]>> examples,
                                                   float scale) {
        check(config, table);
        if (config.task() != Task.CLASSIFICATION || !List.copyOf(examples.keySet()).equals(config.classNames())) {
            throw new IllegalArgumentException("own prototypes need a classification student whose classes are " + examples.keySet());
        }
        Student s = new Student(config);
        float[][] p = s.parameters();
        System.arraycopy(table.table(), 0, p[Student.TOKENS], 0, table.table().length);
        java.util.Arrays.fill(p[Student.BIGRAMS], 0f);
        int d = table.dim();
        double typical = 0;
        int n = 0;
        int c = 0;
        float[] w2 = p[4];
        for (List<int[]> texts : examples.values()) {
            float[] proto = new float[d];
            for (int[] ids : texts) {
                float[] z = table.pool(ids);
                double len = norm(z);
                typical += len;
                n++;
                for (int k = 0; k < d; k++) {
                    proto[k] += (float) (z[k] / Math.max(len, 1e-12));
                }
            }
            double len = norm(proto);
            for (int k = 0; k < d; k++) {
                w2[c * d + k] = (float) (scale * proto[k] / Math.max(len, 1e-12));
            }
            c++;
        }
        float r = (float) Math.max(typical / Math.max(n, 1), 1e-12);
        for (int i = 0; i < w2.length; i++) {
            w2[i] /= r;
        }
        java.util.Arrays.fill(p[5], 0f);
        return s;
    }

    /**
     * The fitted map M in orthonormal form: with M = U S V^T, the token rows become {@code S V^T row}
     * and the map back becomes U, so the student computes the same function while its head has
     * orthonormal columns, as with the basis. Measured: with M itself in the head (ill-conditioned: the
     * ridge weights minor directions heavily) the warm-started student hardly improved with training.
     */
    static void rotate(StaticTable table, float[] rows, float[] u) {
        int d = table.dim();
        int m = table.teacherDim();
        float[] map = table.map();
        double[] mtm = new double[d * d];
        for (int a = 0; a < d; a++) {
            for (int b = a; b < d; b++) {
                double sum = 0;
                for (int j = 0; j < m; j++) {
                    sum += (double) map[j * d + a] * map[j * d + b];
                }
                mtm[a * d + b] = sum;
                mtm[b * d + a] = sum;
            }
        }
        double[] v = new double[d * d];
        double[] values = Pca.jacobi(mtm, d, v);
        double[] sv = new double[d];
        for (int k = 0; k < d; k++) {
            sv[k] = Math.sqrt(Math.max(values[k], 0));
        }
        // U = M V S^-1 (columns with a zero singular value stay zero: no direction of z reaches them).
        for (int j = 0; j < m; j++) {
            for (int k = 0; k < d; k++) {
                double sum = 0;
                for (int a = 0; a < d; a++) {
                    sum += map[j * d + a] * v[a * d + k];
                }
                u[j * d + k] = sv[k] > 1e-12 ? (float) (sum / sv[k]) : 0f;
            }
        }
        double[] row = new double[d];
        for (int id = 0; id < table.vocabSize(); id++) {
            int base = id * d;
            for (int k = 0; k < d; k++) {
                double sum = 0;
                for (int a = 0; a < d; a++) {
                    sum += v[a * d + k] * rows[base + a];
                }
                row[k] = sv[k] * sum;
            }
            for (int k = 0; k < d; k++) {
                rows[base + k] = (float) row[k];
            }
        }
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    private static void check(StudentConfig config, StaticTable table) {
        if (config.vocabSize() != table.vocabSize()) {
            throw new IllegalArgumentException("the student's vocabulary has " + config.vocabSize() + " ids, the static table "
                    + table.vocabSize() + " (another tokenizer?)");
        }
        if (config.embeddingDim() != table.dim()) {
            throw new IllegalArgumentException("student.embedding.dim is " + config.embeddingDim() + " but the static table has D="
                    + table.dim() + ": use the same D, or distil a table with --dim " + config.embeddingDim());
        }
        if (config.hiddenDim() != 0) {
            throw new IllegalArgumentException("a static warm start needs student.hidden.dim=0, got " + config.hiddenDim());
        }
    }

    private WarmStart() {
    }
}
