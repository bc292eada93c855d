package io.streamdistill.trainer;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * Throws once per JVM, on the first record after a Flink checkpoint has completed and at least
 * {@code minRecords} records passed: a task failure after a completed checkpoint.
 */
final class FailOnce implements MapFunction<TargetRecord, TargetRecord>, CheckpointListener {
    private static final long serialVersionUID = 1L;
    static final AtomicBoolean FAILED = new AtomicBoolean();
    static final AtomicInteger COMPLETED_CHECKPOINTS = new AtomicInteger();
    private final int minRecords;
    private transient int seen;

    FailOnce(int minRecords) {
        this.minRecords = minRecords;
    }

    @Override
    public TargetRecord map(TargetRecord r) {
        seen++;
        if (seen >= minRecords && COMPLETED_CHECKPOINTS.get() > 0 && FAILED.compareAndSet(false, true)) {
            throw new IllegalStateException("injected failure after a completed checkpoint (record " + r.id + ")");
        }
        return r;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        COMPLETED_CHECKPOINTS.incrementAndGet();
    }
}
