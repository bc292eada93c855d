package io.streamdistill.student.model;

import io.streamdistill.student.loss.EmbeddingLoss;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.TrainingConfig;

/**
 * A second, deliberately plain implementation of the student and its losses in double precision,
 * written from the maths rather than from {@link Student}: the yardstick for the production
 * forward pass and, through finite differences, for every analytic gradient.
 */
final class ReferenceModel {
    private ReferenceModel() {
    }

    static double[][] toDouble(float[][] params) {
        double[][] out = new double[params.length][];
        for (int i = 0; i < params.length; i++) {
            out[i] = new double[params[i].length];
            for (int j = 0; j < params[i].length; j++) {
                out[i][j] = params[i][j];
            }
        }
        return out;
    }

    /** The mean of the text's feature rows. */
    static double[] pooled(StudentConfig c, double[][] p, int[] ids) {
        int d = c.embeddingDim();
        double[] pooled = new double[d];
        int count = 0;
        for (int i = 0; i < ids.length; i++) {
            for (int j = 0; j < d; j++) {
                pooled[j] += p[0][ids[i] * d + j];
            }
            count++;
            if (c.bigramBuckets() > 0 && i + 1 < ids.length) {
                long bucket = Math.floorMod(ids[i] * 1_000_003L + ids[i + 1], (long) c.bigramBuckets());
                for (int j = 0; j < d; j++) {
                    pooled[j] += p[1][(int) bucket * d + j];
                }
                count++;
            }
        }
        for (int j = 0; j < d; j++) {
            pooled[j] /= Math.max(count, 1);
        }
        return pooled;
    }

    /** The model's raw output (logits, or the unnormalised embedding). */
    static double[] out(StudentConfig c, double[][] p, int[] ids) {
        int d = c.embeddingDim();
        double[] pooled = pooled(c, p, ids);
        double[] z = pooled;
        if (c.hiddenDim() > 0) {
            z = new double[c.hiddenDim()];
            for (int i = 0; i < z.length; i++) {
                double s = p[3][i];
                for (int j = 0; j < d; j++) {
                    s += p[2][i * d + j] * pooled[j];
                }
                z[i] = c.activation() == Activation.RELU ? Math.max(0, s) : Math.tanh(s);
            }
        }
        double[] out = new double[c.outputDim()];
        for (int k = 0; k < out.length; k++) {
            double s = p[5][k];
            for (int i = 0; i < z.length; i++) {
                s += p[4][k * z.length + i] * z[i];
            }
            out[k] = s;
        }
        return out;
    }

    static double[] logSoftmax(double[] x, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v / t);
        }
        double sum = 0;
        for (double v : x) {
            sum += Math.exp(v / t - max);
        }
        double lse = max + Math.log(sum);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] / t - lse;
        }
        return out;
    }

    static double classificationLoss(double[] s, float[] teacherF, int label, double t, double alpha) {
        double[] teacher = new double[teacherF.length];
        for (int i = 0; i < teacher.length; i++) {
            teacher[i] = teacherF[i];
        }
        double[] ls = logSoftmax(s, t);
        double[] lt = logSoftmax(teacher, t);
        double kl = 0;
        for (int i = 0; i < s.length; i++) {
            kl += Math.exp(lt[i]) * (lt[i] - ls[i]);
        }
        if (label < 0) {
            return t * t * kl;
        }
        return alpha * t * t * kl + (1 - alpha) * -logSoftmax(s, 1)[label];
    }

    static double embeddingLoss(double[] u, float[] teacher, EmbeddingLoss kind) {
        double nu = 0;
        double nt = 0;
        for (int i = 0; i < u.length; i++) {
            nu += u[i] * u[i];
            nt += (double) teacher[i] * teacher[i];
        }
        nu = Math.sqrt(nu);
        nt = Math.sqrt(nt);
        double loss = 0;
        for (int i = 0; i < u.length; i++) {
            double y = u[i] / nu;
            double v = teacher[i] / nt;
            loss += kind == EmbeddingLoss.COSINE ? -y * v : (y - v) * (y - v) / u.length;
        }
        return kind == EmbeddingLoss.COSINE ? 1 + loss : loss;
    }

    static double loss(StudentConfig c, TrainingConfig tc, double[][] p, Example e) {
        double[] out = out(c, p, e.tokenIds());
        double loss = c.task() == Task.CLASSIFICATION
                ? classificationLoss(out, e.teacher(), e.label(), tc.temperature(), tc.alpha())
                : embeddingLoss(out, e.teacher(), tc.embeddingLoss());
        if (e.features() != null && tc.featureBeta() > 0 && c.featureDim() > 0) {
            // Feature distillation: beta (1 - cos(P pooled + q, t)).
            int d = c.embeddingDim();
            double[] pooled = pooled(c, p, e.tokenIds());
            double[] f = new double[c.featureDim()];
            for (int j = 0; j < f.length; j++) {
                double s = p[7][j];
                for (int k = 0; k < d; k++) {
                    s += p[6][j * d + k] * pooled[k];
                }
                f[j] = s;
            }
            loss += tc.featureBeta() * embeddingLoss(f, e.features(), EmbeddingLoss.COSINE);
        }
        return loss;
    }

    /** LM top-k loss at temperature 1, as defined in DistillationLoss.topK. */
    static double topKLoss(double[] z, int[] ids, float[] topLogits, double lseTeacher) {
        double[] lq = logSoftmax(z, 1);
        double loss = 0;
        double pTop = 0;
        double qTop = 0;
        for (int k = 0; k < ids.length; k++) {
            double lp = topLogits[k] - lseTeacher;
            loss += Math.exp(lp) * (lp - lq[ids[k]]);
            pTop += Math.exp(lp);
            qTop += Math.exp(lq[ids[k]]);
        }
        double r = 1 - pTop;
        return loss + r * (Math.log(r) - Math.log(1 - qTop));
    }
}
