package io.streamdistill.serving;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The current student version, swapped atomically: a request leases the version that is current when
 * it starts and uses only that one; the old version is closed after its last request.
 */
public final class ModelHolder {
    private final AtomicReference<ServedModel> current = new AtomicReference<>();
    private final AtomicReference<ServedModel> previous = new AtomicReference<>();
    private final AtomicLong swaps = new AtomicLong();
    private final boolean keepPrevious;

    /** Keeps only the current version loaded. */
    public ModelHolder() {
        this(false);
    }

    /**
     * @param keepPrevious also keep the version before the current one loaded ({@link #acquirePrevious}),
     *                     for callers comparing the two newest versions
     */
    public ModelHolder(boolean keepPrevious) {
        this.keepPrevious = keepPrevious;
    }

    /** A lease on the current model, or null while none is loaded. Close it when the request is done. */
    public Lease acquire() {
        return acquire(current);
    }

    /** A lease on the version before the current one, or null (none yet, or not kept). */
    public Lease acquirePrevious() {
        return acquire(previous);
    }

    private static Lease acquire(AtomicReference<ServedModel> slot) {
        while (true) {
            ServedModel m = slot.get();
            if (m == null) {
                return null;
            }
            if (m.retain()) {
                return new Lease(m);
            }
            // Retired between get() and retain(): the new one is current already.
        }
    }

    /** Makes {@code next} current; the previous one is closed once idle. */
    void swap(ServedModel next) {
        ServedModel replaced = current.getAndSet(next);
        if (replaced != null) {
            swaps.incrementAndGet();
            ServedModel dropped = keepPrevious ? previous.getAndSet(replaced) : replaced;
            if (dropped != null) {
                dropped.release(); // its last holder's reference: closed once idle
            }
        }
    }

    public boolean keepsPrevious() {
        return keepPrevious;
    }

    public ServedModel peek() {
        return current.get();
    }

    public long swaps() {
        return swaps.get();
    }

    public void close() {
        for (AtomicReference<ServedModel> slot : java.util.List.of(current, previous)) {
            ServedModel m = slot.getAndSet(null);
            if (m != null) {
                m.release();
            }
        }
    }

    /** One request's hold on one version. */
    public static final class Lease implements AutoCloseable {
        private final ServedModel model;
        private boolean closed;

        private Lease(ServedModel model) {
            this.model = model;
        }

        public ServedModel model() {
            return model;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                model.release();
            }
        }
    }
}
