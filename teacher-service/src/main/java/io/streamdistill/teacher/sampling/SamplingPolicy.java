package io.streamdistill.teacher.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Decides, per record, whether the teacher must run, from the published student's own output:
 * <ul>
 *   <li>{@link Reason#EXPLORATION}: a fixed random share, whatever the student says: the unbiased
 *       sample that estimates agreement (and the only share that may feed holdout evaluation);</li>
 *   <li>{@link Reason#UNSURE}: classification with a low top probability or a small margin to the second;</li>
 *   <li>{@link Reason#CHANGED}: classification where the two newest published versions disagree
 *       (top-1), when {@code versionChange} is on: the regions the student is still learning;</li>
 *   <li>{@link Reason#NOVEL}: an embedding far (cosine) from every recent record the teacher labelled;</li>
 *   <li>{@link Reason#DRIFT}: while the agreement estimated on the exploration share has dropped below
 *       the student's own holdout figure, everything is sampled (at {@code driftRate}) until it recovers.</li>
 * </ul>
 * Everything else is skipped with a reason ({@link Reason#CONFIDENT} or {@link Reason#FAMILIAR}),
 * counted by the caller. Pure logic, no Kafka: the service and the benchmark share it.
 */
public final class SamplingPolicy {

    public enum Reason {
        /** No student yet (or sampling off): the teacher runs on everything. */
        ALL(true), EXPLORATION(true), UNSURE(true), CHANGED(true), NOVEL(true), DRIFT(true),
        /** Skipped: the student was sure (classification). */
        CONFIDENT(false),
        /** Skipped: the record is close to ones the teacher already labelled (embeddings). */
        FAMILIAR(false);

        public final boolean runsTeacher;

        Reason(boolean runsTeacher) {
            this.runsTeacher = runsTeacher;
        }

        /** A fair sample of the stream (see {@code io.streamdistill.schemas.RandomShare}, which reads the same names from records). */
        public boolean randomShare() {
            return this == ALL || this == EXPLORATION;
        }
    }

    /** @param probability the chance this record had of being chosen by exploration (for importance weights) */
    public record Decision(Reason reason, double probability) {
        public boolean runsTeacher() {
            return reason.runsTeacher;
        }
    }

    /**
     * @param exploration   random share always sent to the teacher (e.g. 0.1)
     * @param minConfidence classification: sample when the top probability is below this
     * @param margin        classification: sample when top-1 minus top-2 probability is below this
     * @param novelty       embeddings: sample when 1 - (max cosine to the remembered labelled records) exceeds this
     * @param driftDrop     drift when the exploration agreement falls this far below the baseline
     * @param driftRate     share sampled while drifting
     * @param memory        embeddings remembered for the novelty test
     * @param smoothing     weight of each exploration record in the agreement estimate (EMA)
     */
    public record Settings(double exploration, double minConfidence, double margin, double novelty, double driftDrop,
                           double driftRate, int memory, double smoothing, long seed, boolean versionChange) {
        /** Without the version-change test. */
        public Settings(double exploration, double minConfidence, double margin, double novelty, double driftDrop,
                        double driftRate, int memory, double smoothing, long seed) {
            this(exploration, minConfidence, margin, novelty, driftDrop, driftRate, memory, smoothing, seed, false);
        }

        public static Settings defaults() {
            // Measured (docs/benchmarks.md): a looser 0.6 / 0.2 saved more teacher runs but cost ~4 points of agreement.
            return new Settings(0.10, 0.8, 0.4, 0.35, 0.15, 1.0, 512, 0.03, 42);
        }

        public Settings {
            check(exploration > 0 && exploration <= 1, "sampling.exploration", exploration, "must be in (0, 1]");
            check(minConfidence >= 0 && minConfidence <= 1, "sampling.min.confidence", minConfidence, "must be in [0, 1]");
            check(margin >= 0 && margin <= 1, "sampling.margin", margin, "must be in [0, 1]");
            check(novelty >= 0 && novelty <= 2, "sampling.novelty", novelty, "must be in [0, 2]");
            check(driftDrop > 0 && driftDrop <= 1, "sampling.drift.drop", driftDrop, "must be in (0, 1]");
            check(driftRate > 0 && driftRate <= 1, "sampling.drift.rate", driftRate, "must be in (0, 1]");
            check(memory >= 1, "sampling.memory", memory, "must be >= 1");
            check(smoothing > 0 && smoothing <= 1, "sampling.smoothing", smoothing, "must be in (0, 1]");
        }

        private static void check(boolean ok, String key, double value, String rule) {
            if (!ok) {
                throw new IllegalArgumentException(key + " " + rule + ", got '" + value + "'");
            }
        }
    }

    private final Settings settings;
    private final SplittableRandom random;
    private double baseline = Double.NaN;
    private double estimate = Double.NaN;
    private boolean drifting;
    private float[][] remembered;
    private int rememberedCount;
    private int next;

    public SamplingPolicy(Settings settings) {
        this.settings = settings;
        this.random = new SplittableRandom(settings.seed());
    }

    /** A new student version: its holdout agreement (NaN if unknown) is the baseline drift is measured against. */
    public void newStudent(double holdoutAgreement) {
        baseline = holdoutAgreement;
        estimate = holdoutAgreement;
        drifting = false;
        rememberedCount = 0;
        next = 0;
    }

    /** The decision for one record, from the student's output (probabilities, or a unit embedding). */
    public Decision decide(float[] student, boolean classification) {
        return decide(student, null, classification);
    }

    /**
     * Like {@link #decide(float[], boolean)}, also given the previous published version's output on the
     * same record (null when there is none; only read when {@code versionChange} is on).
     */
    public Decision decide(float[] student, float[] previous, boolean classification) {
        if (random.nextDouble() < settings.exploration()) {
            return new Decision(Reason.EXPLORATION, settings.exploration());
        }
        if (drifting && random.nextDouble() < settings.driftRate()) {
            return new Decision(Reason.DRIFT, settings.exploration());
        }
        if (classification) {
            float[] p = student.clone();
            Arrays.sort(p);
            float top = p[p.length - 1];
            float second = p.length > 1 ? p[p.length - 2] : 0f;
            boolean unsure = top < settings.minConfidence() || top - second < settings.margin();
            if (!unsure && settings.versionChange() && previous != null && argmax(previous) != argmax(student)) {
                return new Decision(Reason.CHANGED, settings.exploration());
            }
            return new Decision(unsure ? Reason.UNSURE : Reason.CONFIDENT, settings.exploration());
        }
        return new Decision(novelty(student) > settings.novelty() ? Reason.NOVEL : Reason.FAMILIAR, settings.exploration());
    }

    /**
     * What the teacher said on a record it ran on: exploration records update the agreement estimate
     * (and with it the drift state); embeddings the teacher labelled are remembered for novelty.
     *
     * @param agreement top-1 agreement (0 or 1) or cosine between student and teacher
     */
    public void observe(Decision d, float[] student, boolean classification, double agreement) {
        if (!classification) {
            remember(student);
        }
        if (d.reason() != Reason.EXPLORATION) {
            return;
        }
        estimate = Double.isNaN(estimate) ? agreement : (1 - settings.smoothing()) * estimate + settings.smoothing() * agreement;
        double reference = Double.isNaN(baseline) ? estimate : baseline;
        if (!drifting && estimate < reference - settings.driftDrop()) {
            drifting = true;
        } else if (drifting && estimate >= reference - settings.driftDrop() / 2) {
            drifting = false;
        }
    }

    public boolean drifting() {
        return drifting;
    }

    /** The agreement estimated on the exploration share (NaN before any). */
    public double estimatedAgreement() {
        return estimate;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            best = v[i] > v[best] ? i : best;
        }
        return best;
    }

    private double novelty(float[] v) {
        if (rememberedCount == 0) {
            return 2;
        }
        double best = -1;
        for (int i = 0; i < rememberedCount; i++) {
            double dot = 0;
            float[] r = remembered[i];
            for (int j = 0; j < v.length && j < r.length; j++) {
                dot += v[j] * r[j];
            }
            best = Math.max(best, dot);
        }
        return 1 - best;
    }

    private void remember(float[] v) {
        if (remembered == null) {
            remembered = new float[settings.memory()][];
        }
        remembered[next] = v.clone();
        next = (next + 1) % remembered.length;
        rememberedCount = Math.min(rememberedCount + 1, remembered.length);
    }
}
