package io.streamdistill.monitor;

import io.streamdistill.schemas.serde.SerdeException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the monitor does with a record it cannot read. A schema-registry outage is not the record's
 * fault: the stream thread fails and is replaced ({@link #isOutage}), and reads the record again
 * from its committed offset, so no record goes uncounted for an outage. A record that really is
 * unreadable is counted ({@link #count}, on /api and /metrics), logged with its coordinates and
 * passed over: the monitor watches and must not stop, and the record stays in its topic.
 */
public final class UnreadableRecords implements DeserializationExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(UnreadableRecords.class);
    private static final Map<String, AtomicLong> COUNTS = new ConcurrentHashMap<>();
    private static final Map<String, String> LAST = new ConcurrentHashMap<>();

    private String applicationId = "";

    @Override
    public void configure(Map<String, ?> configs) {
        Object id = configs.get(StreamsConfig.APPLICATION_ID_CONFIG);
        applicationId = id == null ? "" : id.toString();
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        String where = record.topic() + "/" + record.partition() + "@" + record.offset();
        if (isOutage(exception)) {
            LOG.warn("schema registry unavailable while reading {}; the stream thread restarts and reads it again: {}", where,
                    exception.getMessage());
            return Response.fail();
        }
        String last = where + ": " + exception;
        LAST.put(applicationId, last);
        COUNTS.computeIfAbsent(applicationId, k -> new AtomicLong()).incrementAndGet();
        LOG.warn("unreadable record at {} passed over (it stays in its topic): {}", where, exception.toString());
        return Response.resume();
    }

    /** Records the application {@code applicationId} passed over as unreadable since this JVM started. */
    public static long count(String applicationId) {
        AtomicLong n = COUNTS.get(applicationId);
        return n == null ? 0 : n.get();
    }

    /** Where the last one was and why, or null. */
    public static String last(String applicationId) {
        return LAST.get(applicationId);
    }

    /** Whether {@code e} or one of its causes is a schema-registry outage rather than a fault of the record. */
    static boolean isOutage(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SerdeException s && s.isOutage()) {
                return true;
            }
        }
        return false;
    }
}
