package io.streamdistill.trainer;

/**
 * One soft target on its way through the job (a Flink POJO: public fields, no-arg constructor).
 * The featurize step fills {@link #tokens} and {@link #holdout}.
 */
public class TargetRecord {
    public String id;
    public String text;
    public String label;
    /** Class logits or the embedding, as the teacher published them. */
    public float[] teacher;
    /** The teacher's pooled embedding behind classification logits, when the teacher publishes it (feature distillation); else null. */
    public float[] teacherEmbedding;
    public String teacherModelId;
    public String teacherSha256;
    public String teacherTokenizer;
    public String topic;
    public int partition;
    public long offset;
    /** When the trainer read it (for freshness). */
    public long arrivalMillis;
    public int[] tokens;
    public boolean holdout;
    /**
     * False when the teacher service's adaptive sampling chose this record for a reason other than
     * its random share (the student was unsure, the record novel, agreement drifting): such records
     * are trained on but never held out, so holdout scores stay unbiased.
     */
    public boolean randomShare = true;
    /**
     * The chance this record had of reaching the teacher under adaptive sampling (1 when it was sent
     * whatever the random draw, or sampling was off); with importance.weights on, it trains at weight 1/p.
     */
    public double inclusionProbability = 1;

    public TargetRecord() {
    }
}
