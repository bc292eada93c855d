package io.streamdistill.teacher.sampling;

import java.util.SplittableRandom;

/**
 * Decides, per record, whether the teacher must run, from the published student's own output:
 * <ul>
 *   <li>{@link Reason#EXPLORATION}: a fixed random share, whatever the student says: the unbiased
 *       sample that estimates agreement (and the only share that may feed holdout evaluation);</li>
 *   <li>{@link Reason#UNSURE}: classification where the student's margin (top-1 minus top-2
 *       probability) is among the smallest {@code uncertainShare} of the last {@code uncertainWindow}
 *       records: a budget relative to the student's own recent outputs, so it holds whatever the
 *       teacher's softness; optional absolute floors ({@code minConfidence}, {@code margin}) add to it;</li>
 *   <li>{@link Reason#CHANGED}: classification where the two newest published versions disagree
 *       (top-1), when {@code versionChange} is on: the regions the student is still learning;</li>
 *   <li>{@link Reason#NOVEL}: an embedding far (cosine) from every recent record the teacher labelled;</li>
 *   <li>{@link Reason#DRIFT}: while the agreement estimated on the exploration share has dropped below
 *       the student's own holdout figure, everything is sampled (at {@code driftRate}) until it recovers.</li>
 * </ul>
 * Everything else is skipped with a reason ({@link Reason#CONFIDENT} or {@link Reason#FAMILIAR}),
 * counted by the caller. The rules are evaluated on every record, explored or not, so each decision
 * also says the chance the record had of reaching the teacher (for importance weights). Pure logic,
 * no Kafka: the service and the benchmark share it.
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

    /**
     * @param reason      why the record goes to the teacher, or why it is skipped
     * @param probability the chance every record had of being chosen by exploration
     * @param inclusion   the chance this record had of reaching the teacher: 1 when a rule (unsure, novel,
     *                    changed, everything while drifting) sends it whatever the draw; the exploration
     *                    probability when only the random draw could; its inverse is the importance weight
     */
    public record Decision(Reason reason, double probability, double inclusion) {
        /** A decision whose record reached the teacher with certainty (no student yet, or sampling off). */
        public static Decision all() {
            return new Decision(Reason.ALL, 1.0, 1.0);
        }

        public boolean runsTeacher() {
            return reason.runsTeacher;
        }
    }

    /**
     * @param exploration     random share always sent to the teacher (e.g. 0.05)
     * @param uncertainShare  classification: sample the records whose margin is among this share of the smallest
     *                        of the last {@code uncertainWindow} margins (0 turns the rule off)
     * @param uncertainWindow how many recent margins the share is measured against
     * @param uncertainFactor raises the share to this many times the estimated disagreement (1 - agreement on
     *                        the exploration share) when that is larger: a student that is still often wrong
     *                        sends more (0 keeps the share fixed)
     * @param minConfidence   classification: also sample when the top probability is below this (0 = off)
     * @param margin          classification: also sample when top-1 minus top-2 probability is below this (0 = off)
     * @param novelty         embeddings: sample when 1 - (max cosine to the remembered labelled records) exceeds this
     * @param driftDrop       drift when the exploration agreement falls this far below the baseline
     * @param driftRate       share sampled while drifting
     * @param memory          embeddings remembered for the novelty test
     * @param smoothing       weight of each exploration record in the agreement estimate (EMA)
     * @param versionChange   classification: also sample where the two newest published versions disagree
     */
    public record Settings(double exploration, double uncertainShare, int uncertainWindow, double uncertainFactor,
                           double minConfidence, double margin, double novelty, double driftDrop, double driftRate, int memory,
                           double smoothing, long seed, boolean versionChange) {

        public static Settings defaults() {
            // Measured (docs/benchmarks.md): on a 26,000-record stream these kept agreement about a point below
            // sampling everything (-1.1) at 2.8x fewer teacher runs; without the factor, 4.7x cost 1.3 points.
            return new Settings(0.05, 0.15, 1000, 2.0, 0, 0, 0.35, 0.15, 1.0, 512, 0.03, 42, false);
        }

        public Settings {
            check(exploration > 0 && exploration <= 1, "sampling.exploration", exploration, "must be in (0, 1]");
            check(uncertainShare >= 0 && uncertainShare <= 1, "sampling.uncertain.share", uncertainShare, "must be in [0, 1]");
            check(uncertainWindow >= 10, "sampling.uncertain.window", uncertainWindow, "must be >= 10");
            check(uncertainFactor >= 0, "sampling.uncertain.factor", uncertainFactor, "must be >= 0");
            check(minConfidence >= 0 && minConfidence <= 1, "sampling.min.confidence", minConfidence, "must be in [0, 1]");
            check(margin >= 0 && margin <= 1, "sampling.margin", margin, "must be in [0, 1]");
            check(novelty >= 0 && novelty <= 2, "sampling.novelty", novelty, "must be in [0, 2]");
            check(driftDrop > 0 && driftDrop <= 1, "sampling.drift.drop", driftDrop, "must be in (0, 1]");
            check(driftRate > 0 && driftRate <= 1, "sampling.drift.rate", driftRate, "must be in (0, 1]");
            check(memory >= 1, "sampling.memory", memory, "must be >= 1");
            check(smoothing > 0 && smoothing <= 1, "sampling.smoothing", smoothing, "must be in (0, 1]");
        }

        public Settings withExploration(double v) {
            return new Settings(v, uncertainShare, uncertainWindow, uncertainFactor, minConfidence, margin, novelty, driftDrop,
                    driftRate, memory, smoothing, seed, versionChange);
        }

        public Settings withUncertainShare(double v) {
            return new Settings(exploration, v, uncertainWindow, uncertainFactor, minConfidence, margin, novelty, driftDrop,
                    driftRate, memory, smoothing, seed, versionChange);
        }

        /** Absolute floors: top probability below {@code confidence} or margin below {@code m} is unsure too. */
        public Settings withThresholds(double confidence, double m) {
            return new Settings(exploration, uncertainShare, uncertainWindow, uncertainFactor, confidence, m, novelty, driftDrop,
                    driftRate, memory, smoothing, seed, versionChange);
        }

        public Settings withUncertainFactor(double v) {
            return new Settings(exploration, uncertainShare, uncertainWindow, v, minConfidence, margin, novelty, driftDrop, driftRate,
                    memory, smoothing, seed, versionChange);
        }

        public Settings withVersionChange(boolean v) {
            return new Settings(exploration, uncertainShare, uncertainWindow, uncertainFactor, minConfidence, margin, novelty,
                    driftDrop, driftRate, memory, smoothing, seed, v);
        }

        public Settings withSeed(long v) {
            return new Settings(exploration, uncertainShare, uncertainWindow, uncertainFactor, minConfidence, margin, novelty,
                    driftDrop, driftRate, memory, smoothing, v, versionChange);
        }

        private static void check(boolean ok, String key, double value, String rule) {
            if (!ok) {
                throw new IllegalArgumentException(key + " " + rule + ", got '" + value + "'");
            }
        }
    }

    /** Below this many recent margins the share is not measurable yet, and every record counts as unsure. */
    static final int MIN_MARGINS = 50;

    private final Settings settings;
    private final SplittableRandom random;
    private double baseline = Double.NaN;
    private double estimate = Double.NaN;
    private boolean drifting;
    private float[][] remembered;
    private int rememberedCount;
    private int next;
    private final float[] margins;
    private int marginCount;
    private int nextMargin;
    /** Margins in the window from the current version (the newest ones). */
    private int versionMargins;

    public SamplingPolicy(Settings settings) {
        this.settings = settings;
        this.random = new SplittableRandom(settings.seed());
        this.margins = new float[settings.uncertainWindow()];
    }

    /** A new student version: its holdout agreement (NaN if unknown) is the baseline drift is measured against. */
    public void newStudent(double holdoutAgreement) {
        baseline = holdoutAgreement;
        estimate = holdoutAgreement;
        drifting = false;
        rememberedCount = 0;
        next = 0;
        // The margin window is kept, so the new version is not sent everything while it has no margins of its
        // own; once it has MIN_MARGINS, only its own margins rank it (a surer version has smaller ones).
        versionMargins = 0;
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
        double e = settings.exploration();
        boolean explored = random.nextDouble() < e;
        Reason rule = classification ? classificationRule(student, previous) : novelty(student) > settings.novelty() ? Reason.NOVEL : null;
        if (rule != null) {
            return new Decision(explored ? Reason.EXPLORATION : rule, e, 1.0);
        }
        if (drifting) {
            double inclusion = e + (1 - e) * settings.driftRate();
            if (explored) {
                return new Decision(Reason.EXPLORATION, e, inclusion);
            }
            if (random.nextDouble() < settings.driftRate()) {
                return new Decision(Reason.DRIFT, e, inclusion);
            }
            return new Decision(classification ? Reason.CONFIDENT : Reason.FAMILIAR, e, inclusion);
        }
        return new Decision(explored ? Reason.EXPLORATION : classification ? Reason.CONFIDENT : Reason.FAMILIAR, e, e);
    }

    /** UNSURE, CHANGED, or null when the student is sure; records this margin in the window either way. */
    private Reason classificationRule(float[] student, float[] previous) {
        float top = Float.NEGATIVE_INFINITY;
        float second = Float.NEGATIVE_INFINITY;
        for (float v : student) {
            if (v > top) {
                second = top;
                top = v;
            } else if (v > second) {
                second = v;
            }
        }
        float m = student.length > 1 ? top - second : top;
        boolean unsure = top < settings.minConfidence() || m < settings.margin() || amongTheLeastSure(m);
        margins[nextMargin] = m;
        nextMargin = (nextMargin + 1) % margins.length;
        marginCount = Math.min(marginCount + 1, margins.length);
        versionMargins = Math.min(versionMargins + 1, margins.length);
        if (unsure) {
            return Reason.UNSURE;
        }
        if (settings.versionChange() && previous != null && argmax(previous) != argmax(student)) {
            return Reason.CHANGED;
        }
        return null;
    }

    /** The share of least-sure records sent now: the set share, or more while the student is often wrong. */
    public double uncertainShare() {
        double disagreement = Double.isNaN(estimate) ? 0 : 1 - estimate;
        return Math.min(1, Math.max(settings.uncertainShare(), settings.uncertainFactor() * disagreement));
    }

    private boolean amongTheLeastSure(float m) {
        if (settings.uncertainShare() <= 0) {
            return false;
        }
        double share = uncertainShare();
        if (share >= 1 || marginCount < Math.min(MIN_MARGINS, margins.length)) {
            return true;
        }
        int n = versionMargins >= Math.min(MIN_MARGINS, margins.length) ? versionMargins : marginCount;
        // Mid-rank: ties count half, so a student whose margins are all equal is not "least sure" everywhere.
        int below = 0;
        int equal = 0;
        for (int j = 1; j <= n; j++) {
            float v = margins[Math.floorMod(nextMargin - j, margins.length)];
            below += v < m ? 1 : 0;
            equal += v == m ? 1 : 0;
        }
        return below + equal / 2.0 < share * n;
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
