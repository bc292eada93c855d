package io.streamdistill.trainer;

/**
 * Decides whether a candidate version may be published: its holdout agreement must reach
 * {@code gate.min.agreement} and must not fall below the last published version's by more than
 * {@code gate.max.regression} (or than sampling noise, whichever is larger). The live trainer and
 * {@code finetune} use the same rule.
 */
public final class QualityGate {
    /** What the last published version scored, or NaN agreement when nothing has been published. */
    public record Published(long version, double agreement, int count) {
        public static final Published NONE = new Published(0, Double.NaN, 0);
    }

    private final double minAgreement;
    private final double maxRegression;
    private final String holdoutPercent;

    public QualityGate(double minAgreement, double maxRegression, String holdoutPercent) {
        if (!(minAgreement >= 0 && minAgreement <= 1)) {
            throw new IllegalArgumentException("gate.min.agreement must be in [0, 1], got " + minAgreement);
        }
        if (!(maxRegression >= 0 && maxRegression <= 1)) {
            throw new IllegalArgumentException("gate.max.regression must be in [0, 1], got " + maxRegression);
        }
        this.minAgreement = minAgreement;
        this.maxRegression = maxRegression;
        this.holdoutPercent = holdoutPercent;
    }

    public static QualityGate of(TrainerConfig config) {
        return new QualityGate(config.number("gate.min.agreement"), config.number("gate.max.regression"),
                config.string("holdout.percent"));
    }

    /**
     * Why the candidate must not be published, or null when it may.
     *
     * @param agreement the candidate's holdout agreement (top-1, or mean cosine)
     * @param count     how many holdout records it was measured on
     */
    public String refusal(double agreement, int count, Published last) {
        if (count == 0) {
            return minAgreement > 0 || !Double.isNaN(last.agreement())
                    ? "no holdout records yet to judge it by (holdout.percent=" + holdoutPercent + ")" : null;
        }
        if (agreement < minAgreement) {
            return String.format("holdout agreement %.4f on %d records is below gate.min.agreement=%s", agreement, count,
                    number(minAgreement));
        }
        if (!Double.isNaN(last.agreement())) {
            // Both figures are estimates from a few hundred holdout records at most: a drop counts only
            // when it is also beyond sampling noise (two standard errors of the difference), or an early
            // lucky estimate on 20 records would block every later version.
            double noise = last.count() == 0 ? 0 : 2 * Math.sqrt(variance(last.agreement(), last.count()) + variance(agreement, count));
            double allowed = Math.max(maxRegression, noise);
            if (agreement < last.agreement() - allowed) {
                return String.format("holdout agreement %.4f on %d records is worse than version %d's %.4f on %d records by more "
                                + "than gate.max.regression=%s (and than sampling noise %.4f)", agreement, count, last.version(),
                        last.agreement(), last.count(), number(maxRegression), noise);
            }
        }
        return null;
    }

    /** Variance of a mean of n values in [0, 1] around p (binomial; an upper bound for cosine averages too). */
    private static double variance(double p, int n) {
        double q = Math.min(1, Math.max(0, p));
        return q * (1 - q) / n;
    }

    private static String number(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
