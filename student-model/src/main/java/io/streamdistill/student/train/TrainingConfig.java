package io.streamdistill.student.train;

import static io.streamdistill.student.model.ConfigMap.check;

import io.streamdistill.student.loss.EmbeddingLoss;
import io.streamdistill.student.model.ConfigMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a student learns: the distillation loss (temperature, alpha, embedding loss), Adam, gradient
 * clipping, warm-up, and token dropout. A stream has no end, so nothing here needs a total step
 * count: the learning rate warms up linearly and then stays constant.
 */
public final class TrainingConfig {
    static final String OWNER = "training";

    private final float temperature;
    private final float alpha;
    private final EmbeddingLoss embeddingLoss;
    private final float learningRate;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final int warmupSteps;
    private final float clipNorm;
    private final float tokenDropout;
    private final float featureBeta;

    private TrainingConfig(Builder b) {
        check(b.temperature > 0 && b.temperature <= 100, OWNER, "temperature", b.temperature, "must be in (0, 100]");
        check(b.alpha >= 0 && b.alpha <= 1, OWNER, "alpha", b.alpha, "must be in [0, 1]");
        check(b.learningRate > 0 && b.learningRate < 10, OWNER, "learningRate", b.learningRate, "must be in (0, 10)");
        check(b.beta1 >= 0 && b.beta1 < 1, OWNER, "beta1", b.beta1, "must be in [0, 1)");
        check(b.beta2 >= 0 && b.beta2 < 1, OWNER, "beta2", b.beta2, "must be in [0, 1)");
        check(b.epsilon > 0, OWNER, "epsilon", b.epsilon, "must be > 0");
        check(b.warmupSteps >= 0, OWNER, "warmupSteps", b.warmupSteps, "must be >= 0");
        check(b.clipNorm >= 0, OWNER, "clipNorm", b.clipNorm, "must be >= 0 (0 = no clipping)");
        check(b.tokenDropout >= 0 && b.tokenDropout < 1, OWNER, "tokenDropout", b.tokenDropout, "must be in [0, 1)");
        check(b.featureBeta >= 0 && b.featureBeta <= 100, OWNER, "featureBeta", b.featureBeta, "must be in [0, 100] (0 = off)");
        this.featureBeta = b.featureBeta;
        check(b.embeddingLoss != null, OWNER, "embeddingLoss", null, "is required");
        this.temperature = b.temperature;
        this.alpha = b.alpha;
        this.embeddingLoss = b.embeddingLoss;
        this.learningRate = b.learningRate;
        this.beta1 = b.beta1;
        this.beta2 = b.beta2;
        this.epsilon = b.epsilon;
        this.warmupSteps = b.warmupSteps;
        this.clipNorm = b.clipNorm;
        this.tokenDropout = b.tokenDropout;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static TrainingConfig defaults() {
        return builder().build();
    }

    /** Reads the keys of {@link #toMap()}; missing keys keep their defaults. */
    public static TrainingConfig fromMap(Map<String, String> map) {
        ConfigMap c = new ConfigMap(map, OWNER);
        Builder d = new Builder();
        return builder()
                .temperature(c.floatValue("temperature", d.temperature))
                .alpha(c.floatValue("alpha", d.alpha))
                .embeddingLoss(c.enumValue("embeddingLoss", EmbeddingLoss.class, d.embeddingLoss))
                .learningRate(c.floatValue("learningRate", d.learningRate))
                .beta1(c.floatValue("beta1", d.beta1))
                .beta2(c.floatValue("beta2", d.beta2))
                .epsilon(c.floatValue("epsilon", d.epsilon))
                .warmupSteps(c.integer("warmupSteps", d.warmupSteps))
                .clipNorm(c.floatValue("clipNorm", d.clipNorm))
                .tokenDropout(c.floatValue("tokenDropout", d.tokenDropout))
                .featureBeta(c.floatValue("featureBeta", d.featureBeta))
                .build();
    }

    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("temperature", Float.toString(temperature));
        m.put("alpha", Float.toString(alpha));
        m.put("embeddingLoss", embeddingLoss.name());
        m.put("learningRate", Float.toString(learningRate));
        m.put("beta1", Float.toString(beta1));
        m.put("beta2", Float.toString(beta2));
        m.put("epsilon", Float.toString(epsilon));
        m.put("warmupSteps", Integer.toString(warmupSteps));
        m.put("clipNorm", Float.toString(clipNorm));
        m.put("tokenDropout", Float.toString(tokenDropout));
        m.put("featureBeta", Float.toString(featureBeta));
        return m;
    }

    public float temperature() {
        return temperature;
    }

    public float alpha() {
        return alpha;
    }

    public EmbeddingLoss embeddingLoss() {
        return embeddingLoss;
    }

    public float learningRate() {
        return learningRate;
    }

    public float beta1() {
        return beta1;
    }

    public float beta2() {
        return beta2;
    }

    public float epsilon() {
        return epsilon;
    }

    public int warmupSteps() {
        return warmupSteps;
    }

    public float clipNorm() {
        return clipNorm;
    }

    public float tokenDropout() {
        return tokenDropout;
    }

    /**
     * β of feature distillation: the loss adds {@code β (1 - cos(P pooled + q, teacher embedding))}
     * for records that carry the teacher's pooled embedding (classification; 0 = off).
     */
    public float featureBeta() {
        return featureBeta;
    }

    /** The learning rate at a (1-based) step: linear warm-up, then constant. */
    public float learningRateAt(long step) {
        return warmupSteps == 0 || step >= warmupSteps ? learningRate : learningRate * step / warmupSteps;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainingConfig other && toMap().equals(other.toMap());
    }

    @Override
    public int hashCode() {
        return toMap().hashCode();
    }

    @Override
    public String toString() {
        return "TrainingConfig" + toMap();
    }

    public static final class Builder {
        private float temperature = 2f;
        private float alpha = 0.7f;
        private EmbeddingLoss embeddingLoss = EmbeddingLoss.COSINE;
        private float learningRate = 0.01f;
        private float beta1 = 0.9f;
        private float beta2 = 0.999f;
        private float epsilon = 1e-8f;
        private int warmupSteps = 100;
        private float clipNorm = 5f;
        private float tokenDropout = 0f;
        private float featureBeta = 0f;

        public Builder featureBeta(float b) {
            this.featureBeta = b;
            return this;
        }

        public Builder temperature(float t) {
            this.temperature = t;
            return this;
        }

        public Builder alpha(float a) {
            this.alpha = a;
            return this;
        }

        public Builder embeddingLoss(EmbeddingLoss l) {
            this.embeddingLoss = l;
            return this;
        }

        public Builder learningRate(float lr) {
            this.learningRate = lr;
            return this;
        }

        public Builder beta1(float b) {
            this.beta1 = b;
            return this;
        }

        public Builder beta2(float b) {
            this.beta2 = b;
            return this;
        }

        public Builder epsilon(float e) {
            this.epsilon = e;
            return this;
        }

        public Builder warmupSteps(int n) {
            this.warmupSteps = n;
            return this;
        }

        public Builder clipNorm(float c) {
            this.clipNorm = c;
            return this;
        }

        public Builder tokenDropout(float p) {
            this.tokenDropout = p;
            return this;
        }

        public TrainingConfig build() {
            return new TrainingConfig(this);
        }
    }
}
