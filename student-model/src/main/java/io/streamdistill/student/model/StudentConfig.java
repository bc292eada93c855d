package io.streamdistill.student.model;

import static io.streamdistill.student.model.ConfigMap.check;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The architecture of an EmbeddingBag student: token embeddings over the tokenizer's vocabulary,
 * optional hashed token-bigram buckets, masked mean pooling, an optional hidden layer, and a
 * classification (softmax) or embedding (linear, L2-normalised) head. Validated on construction;
 * errors name the field and the value.
 */
public final class StudentConfig {
    static final String OWNER = "student";
    /** Multiplier of the bigram hash (a prime); the ONNX graph computes the same hash. */
    public static final long BIGRAM_PRIME = 1_000_003L;

    private final Task task;
    private final int vocabSize;
    private final int embeddingDim;
    private final int bigramBuckets;
    private final int hiddenDim;
    private final Activation activation;
    private final int outputDim;
    private final List<String> classNames;
    private final long seed;
    private final int featureDim;

    private StudentConfig(Builder b) {
        check(b.task != null, OWNER, "task", b.task, "is required");
        check(b.vocabSize > 0, OWNER, "vocabSize", b.vocabSize, "must be > 0");
        check(b.embeddingDim > 0 && b.embeddingDim <= 4096, OWNER, "embeddingDim", b.embeddingDim, "must be in 1..4096");
        check(b.bigramBuckets >= 0, OWNER, "bigramBuckets", b.bigramBuckets, "must be >= 0 (0 = no bigrams)");
        check(b.hiddenDim >= 0 && b.hiddenDim <= 8192, OWNER, "hiddenDim", b.hiddenDim, "must be in 0..8192 (0 = no hidden layer)");
        check(b.featureDim >= 0 && b.featureDim <= 8192, OWNER, "featureDim", b.featureDim,
                "must be in 0..8192 (0 = no feature distillation)");
        this.featureDim = b.featureDim;
        this.task = b.task;
        this.vocabSize = b.vocabSize;
        this.embeddingDim = b.embeddingDim;
        this.bigramBuckets = b.bigramBuckets;
        this.hiddenDim = b.hiddenDim;
        this.activation = b.activation;
        this.seed = b.seed;
        if (task == Task.CLASSIFICATION) {
            check(b.classNames.size() >= 2, OWNER, "classNames", b.classNames, "must name at least 2 classes");
            check(b.classNames.stream().distinct().count() == b.classNames.size(), OWNER, "classNames", b.classNames,
                    "must not repeat a name");
            this.classNames = List.copyOf(b.classNames);
            this.outputDim = classNames.size();
        } else {
            check(b.outputDim > 0, OWNER, "outputDim", b.outputDim, "must be > 0 (the teacher's embedding size)");
            this.classNames = List.of();
            this.outputDim = b.outputDim;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Reads the keys written by {@link #toMap()}. */
    public static StudentConfig fromMap(Map<String, String> map) {
        ConfigMap c = new ConfigMap(map, OWNER);
        Builder b = builder()
                .task(c.enumValue("task", Task.class, null))
                .vocabSize(c.integer("vocabSize", 0))
                .embeddingDim(c.integer("embeddingDim", 64))
                .bigramBuckets(c.integer("bigramBuckets", 0))
                .hiddenDim(c.integer("hiddenDim", 0))
                .activation(c.enumValue("activation", Activation.class, Activation.RELU))
                .outputDim(c.integer("outputDim", 0))
                .featureDim(c.integer("featureDim", 0))
                .seed(c.longValue("seed", 42));
        String names = c.string("classNames", "");
        if (!names.isEmpty()) {
            b.classNames(List.of(names.split("\u001f", -1)));
        }
        return b.build();
    }

    /** Every setting as strings, in a fixed order (for state files and config hashes). */
    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("task", task.name());
        m.put("vocabSize", String.valueOf(vocabSize));
        m.put("embeddingDim", String.valueOf(embeddingDim));
        m.put("bigramBuckets", String.valueOf(bigramBuckets));
        m.put("hiddenDim", String.valueOf(hiddenDim));
        m.put("activation", activation.name());
        m.put("outputDim", String.valueOf(outputDim));
        // Unit separator: class names may contain commas.
        m.put("classNames", String.join("\u001f", classNames));
        m.put("seed", String.valueOf(seed));
        if (featureDim > 0) {
            m.put("featureDim", String.valueOf(featureDim)); // absent when off: older configs and hashes stay as they were
        }
        return m;
    }

    public Task task() {
        return task;
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int embeddingDim() {
        return embeddingDim;
    }

    public int bigramBuckets() {
        return bigramBuckets;
    }

    public int hiddenDim() {
        return hiddenDim;
    }

    public Activation activation() {
        return activation;
    }

    /** K for classification, the teacher's dimension for embedding. */
    public int outputDim() {
        return outputDim;
    }

    public List<String> classNames() {
        return classNames;
    }

    public long seed() {
        return seed;
    }

    /**
     * Width of the teacher embedding that feature distillation matches through a projection of the
     * pooled vector (training only, never exported); 0 when off.
     */
    public int featureDim() {
        return featureDim;
    }

    /** Width of the vector the head reads: the hidden layer's, or the pooled embedding's. */
    public int headInputDim() {
        return hiddenDim > 0 ? hiddenDim : embeddingDim;
    }

    public long parameterCount() {
        long p = (long) vocabSize * embeddingDim + (long) bigramBuckets * embeddingDim;
        if (hiddenDim > 0) {
            p += (long) hiddenDim * embeddingDim + hiddenDim;
        }
        return p + (long) outputDim * headInputDim() + outputDim;
    }

    /** One line a person can read, e.g. for the checkpoint record. */
    public String describe() {
        return "embedding-bag(vocab=" + vocabSize + ", dim=" + embeddingDim
                + (bigramBuckets > 0 ? ", bigram-buckets=" + bigramBuckets : "") + ")"
                + (hiddenDim > 0 ? " -> " + activation.name().toLowerCase() + "(" + hiddenDim + ")" : "")
                + (task == Task.CLASSIFICATION ? " -> softmax(" + outputDim + ")" : " -> linear(" + outputDim + ") -> l2norm");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StudentConfig other && toMap().equals(other.toMap());
    }

    @Override
    public int hashCode() {
        return toMap().hashCode();
    }

    @Override
    public String toString() {
        return "StudentConfig" + toMap();
    }

    public static final class Builder {
        private Task task;
        private int vocabSize;
        private int embeddingDim = 64;
        private int bigramBuckets;
        private int hiddenDim;
        private Activation activation = Activation.RELU;
        private int outputDim;
        private List<String> classNames = List.of();
        private long seed = 42;
        private int featureDim;

        public Builder featureDim(int d) {
            this.featureDim = d;
            return this;
        }

        public Builder task(Task task) {
            this.task = task;
            return this;
        }

        public Builder vocabSize(int n) {
            this.vocabSize = n;
            return this;
        }

        public Builder embeddingDim(int d) {
            this.embeddingDim = d;
            return this;
        }

        public Builder bigramBuckets(int n) {
            this.bigramBuckets = n;
            return this;
        }

        public Builder hiddenDim(int h) {
            this.hiddenDim = h;
            return this;
        }

        public Builder activation(Activation a) {
            this.activation = a;
            return this;
        }

        public Builder outputDim(int d) {
            this.outputDim = d;
            return this;
        }

        public Builder classNames(List<String> names) {
            this.classNames = names;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public StudentConfig build() {
            return new StudentConfig(this);
        }
    }
}
