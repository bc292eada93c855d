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

    public TargetRecord() {
    }
}
