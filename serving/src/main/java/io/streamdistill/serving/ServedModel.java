package io.streamdistill.serving;

import io.streamdistill.student.onnx.StudentRunner;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One loaded student version. Requests hold a lease on it while they run; a version swapped out is
 * closed only when its last lease ends, so a request never meets a closed model mid-way.
 */
public final class ServedModel {
    private final String student;
    private final long version;
    private final String sha256;
    private final String task;
    private final List<String> classNames;
    private final StudentRunner runner;
    private final double holdoutAgreement;
    private final Instant loadedAt = Instant.now();
    /** 1 for "current" plus one per lease; reaches 0 once retired and idle. */
    private final AtomicInteger references = new AtomicInteger(1);

    ServedModel(String student, long version, String sha256, String task, List<String> classNames, StudentRunner runner,
                double holdoutAgreement) {
        this.holdoutAgreement = holdoutAgreement;
        this.student = student;
        this.version = version;
        this.sha256 = sha256;
        this.task = task;
        this.classNames = classNames == null ? List.of() : List.copyOf(classNames);
        this.runner = runner;
    }

    /** Takes a lease; false if the model was already retired and closed (the caller retries with the new current one). */
    boolean retain() {
        while (true) {
            int n = references.get();
            if (n == 0) {
                return false;
            }
            if (references.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void release() {
        if (references.decrementAndGet() == 0) {
            runner.close();
        }
    }

    public float[][] score(List<String> texts) {
        return runner.score(texts);
    }

    /**
     * One text's answer as serve and the stream processor write it: {@code label}, {@code confidence} (its
     * probability) and {@code probabilities} by class name for a classification student; nothing but the
     * {@code embedding} for an embedding student.
     */
    public Map<String, Object> answer(float[] output) {
        Map<String, Object> a = new LinkedHashMap<>();
        if (!task.equals("CLASSIFICATION")) {
            a.put("embedding", output);
            return a;
        }
        Map<String, Float> probabilities = new LinkedHashMap<>();
        int best = 0;
        for (int k = 0; k < output.length; k++) {
            probabilities.put(className(k), output[k]);
            best = output[k] > output[best] ? k : best;
        }
        a.put("label", className(best));
        a.put("confidence", output[best]);
        a.put("probabilities", probabilities);
        return a;
    }

    private String className(int k) {
        return k < classNames.size() ? classNames.get(k) : String.valueOf(k);
    }

    public String student() {
        return student;
    }

    public long version() {
        return version;
    }

    public String sha256() {
        return sha256;
    }

    public String task() {
        return task;
    }

    public List<String> classNames() {
        return classNames;
    }

    /** The holdout agreement (or cosine) its checkpoint record reported; NaN when absent. */
    public double holdoutAgreement() {
        return holdoutAgreement;
    }

    public Instant loadedAt() {
        return loadedAt;
    }
}
