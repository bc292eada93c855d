package io.streamdistill.trainer;

import io.streamdistill.student.train.BatchResult;
import io.streamdistill.student.train.Evaluation;

/**
 * Progressive validation: each record is scored by the model before the model trains on it, and
 * loss, agreement and KL are smoothed over about the last hundred records.
 */
final class Progress {
    private static final double KEEP = 0.99;

    private double loss;
    private double agreement;
    private double kl;
    private boolean any;

    /** One record scored before training on it (the operator's path when token dropout is on). */
    void scored(Evaluation e) {
        update(e.loss(), e.agreement(), e.kl(), 1);
    }

    /**
     * A batch whose scores came from the training pass itself, before its update: the same figures
     * as scoring each record first, without a second forward pass (weights as the batch's loss weighs them).
     */
    void trained(BatchResult result, int records) {
        update(result.meanLoss(), result.meanAgreement(), result.meanKl(), records);
    }

    private void update(double l, double a, double k, int records) {
        if (!any) {
            loss = l;
            agreement = a;
            kl = k;
            any = true;
            return;
        }
        // n records at once move the average as n single ones with the same mean would.
        double keep = Math.pow(KEEP, records);
        loss = keep * loss + (1 - keep) * l;
        agreement = keep * agreement + (1 - keep) * a;
        kl = keep * kl + (1 - keep) * k;
    }

    double loss() {
        return loss;
    }

    double agreement() {
        return agreement;
    }

    double kl() {
        return kl;
    }
}
