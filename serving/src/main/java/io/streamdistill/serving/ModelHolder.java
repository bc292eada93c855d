package io.streamdistill.serving;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The current student version, swapped atomically: a request leases the version that is current when
 * it starts and uses only that one; the old version is closed after its last request.
 */
public final class ModelHolder {
    private final AtomicReference<ServedModel> current = new AtomicReference<>();
    private final AtomicLong swaps = new AtomicLong();

    /** A lease on the current model, or null while none is loaded. Close it when the request is done. */
    public Lease acquire() {
        while (true) {
            ServedModel m = current.get();
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
        ServedModel previous = current.getAndSet(next);
        if (previous != null) {
            swaps.incrementAndGet();
            previous.release(); // drop its "current" reference
        }
    }

    public ServedModel peek() {
        return current.get();
    }

    public long swaps() {
        return swaps.get();
    }

    void close() {
        ServedModel m = current.getAndSet(null);
        if (m != null) {
            m.release();
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
