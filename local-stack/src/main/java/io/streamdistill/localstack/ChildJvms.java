package io.streamdistill.localstack;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Stopping a child JVM the local stack started under a {@link ParentWatchdog}. */
final class ChildJvms {
    private static final Logger LOG = LoggerFactory.getLogger(ChildJvms.class);

    /** Closes its lifeline, sends SIGTERM, and SIGKILL after 15 s. */
    static void stop(Process p, OutputStream lifeline, String what) {
        try {
            lifeline.close();
        } catch (IOException ignored) {
            // Closing it is only a second stop signal.
        }
        p.destroy();
        try {
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                LOG.warn("{} (pid {}) did not stop within 15 s; killing it", what, p.pid());
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    private ChildJvms() {
    }
}
