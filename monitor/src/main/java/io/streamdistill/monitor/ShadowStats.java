package io.streamdistill.monitor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A published student version scored live: how many holdout soft targets it was run on, their
 * mean agreement (top-1, or cosine for embeddings) and KL, plus what its checkpoint record said.
 * Also the unit the shadow processor emits (one scored record, or a version first seen with 0).
 */
public final class ShadowStats {
    public String student;
    public long version;
    public String task;
    public String createdAt;
    public long recordsSeen;
    public Map<String, Double> checkpointMetrics = new LinkedHashMap<>();
    public long records;
    public double agreementSum;
    public double klSum;
    /** Why the artifact could not be scored (a failed sha256 check, an unreadable URI), or null. */
    public String refused;

    public ShadowStats merge(ShadowStats other) {
        if (student == null) {
            student = other.student;
            version = other.version;
            task = other.task;
            createdAt = other.createdAt;
            recordsSeen = other.recordsSeen;
            checkpointMetrics = other.checkpointMetrics;
        }
        records += other.records;
        agreementSum += other.agreementSum;
        klSum += other.klSum;
        if (other.refused != null) {
            refused = other.refused;
        }
        return this;
    }

    public double agreement() {
        return records == 0 ? Double.NaN : agreementSum / records;
    }

    public double kl() {
        return records == 0 || !"CLASSIFICATION".equals(task) ? Double.NaN : klSum / records;
    }
}
