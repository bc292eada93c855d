package io.streamdistill.schemas;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * A slice of a topic resolved to exact offsets: per partition, the first offset read and the
 * offset it stops before. Resolved once, up front, so a replay (or a re-teach) records exactly what
 * it read.
 *
 * <p>{@code --from}: {@code earliest}, {@code latest}, an instant ({@code 2026-11-28T10:00:00Z} or
 * epoch milliseconds), or {@code <partition>:<offset>,...} (partitions not named are not replayed).
 * {@code --to}: {@code latest}, {@code earliest}, an instant, or {@code <partition>:<offset>,...}
 * (exclusive; partitions not named run to their end).
 */
public record TopicRange(String topic, String from, String to, Map<Integer, long[]> offsets) {

    public static TopicRange resolve(Admin admin, String topic, String from, String to) {
        try {
            TopicDescription description;
            try {
                description = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                    throw new IllegalArgumentException("topic '" + topic + "' does not exist");
                }
                throw new IllegalArgumentException("cannot describe topic '" + topic + "': " + e.getCause().getMessage(), e.getCause());
            }
            List<TopicPartition> partitions = new ArrayList<>();
            description.partitions().forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            Map<Integer, Long> earliest = list(admin, partitions, OffsetSpec.earliest());
            Map<Integer, Long> latest = list(admin, partitions, OffsetSpec.latest());

            Map<Integer, Long> start = position("--from", from, admin, partitions, earliest, latest);
            Map<Integer, Long> end = position("--to", to, admin, partitions, earliest, latest);
            Long fromTime = instant(from);
            Long toTime = instant(to);
            if (fromTime != null && toTime != null && toTime < fromTime) {
                throw new IllegalArgumentException("--to " + to + " is before --from " + from);
            }
            Map<Integer, long[]> offsets = new TreeMap<>();
            for (Map.Entry<Integer, Long> e : start.entrySet()) {
                long s = e.getValue();
                long t = end.get(e.getKey());
                if (t < s) {
                    throw new IllegalArgumentException("--to is before --from on partition " + e.getKey() + " of '" + topic
                            + "' (offset " + t + " < " + s + ")");
                }
                offsets.put(e.getKey(), new long[] {s, t});
            }
            TopicRange range = new TopicRange(topic, from, to, offsets);
            if (range.records() == 0) {
                throw new IllegalArgumentException("the range --from " + from + " --to " + to + " of '" + topic
                        + "' holds no records (partition offsets " + earliest + " to " + latest + ")");
            }
            return range;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while resolving the range", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalArgumentException("cannot resolve offsets of '" + topic + "': " + e.getMessage(), e);
        }
    }

    /** How many offsets the range spans (transaction markers included, so at most this many records). */
    public long records() {
        return offsets.values().stream().mapToLong(o -> o[1] - o[0]).sum();
    }

    /** The trainer's {@code starting.offsets} for this range. */
    public String startSetting() {
        return setting(0);
    }

    /** The trainer's {@code bounded.end} for this range. */
    public String endSetting() {
        return setting(1);
    }

    private String setting(int i) {
        List<String> parts = new ArrayList<>();
        offsets.forEach((p, o) -> parts.add(p + ":" + o[i]));
        return "offsets:" + String.join(",", parts);
    }

    private static Map<Integer, Long> position(String flag, String spec, Admin admin, List<TopicPartition> partitions,
                                               Map<Integer, Long> earliest, Map<Integer, Long> latest)
            throws InterruptedException, ExecutionException, TimeoutException {
        String v = spec.trim();
        if (v.equalsIgnoreCase("earliest")) {
            return earliest;
        }
        if (v.equalsIgnoreCase("latest")) {
            return latest;
        }
        Long millis = instant(v);
        if (millis != null) {
            Map<Integer, Long> at = list(admin, partitions, OffsetSpec.forTimestamp(millis));
            Map<Integer, Long> out = new LinkedHashMap<>();
            at.forEach((p, o) -> out.put(p, o < 0 ? latest.get(p) : o)); // no record at or after it: the end
            return out;
        }
        if (!v.contains(":")) {
            throw new IllegalArgumentException(flag + " must be earliest, latest, an instant (2026-11-28T10:00:00Z or epoch "
                    + "milliseconds) or <partition>:<offset>,..., got '" + spec + "'");
        }
        // Partitions not named: --from starts them at their end (nothing read), --to runs them to it.
        Map<Integer, Long> out = new LinkedHashMap<>(latest);
        for (String part : v.split(",")) {
            String[] po = part.trim().split(":");
            int p;
            long o;
            try {
                p = Integer.parseInt(po[0].trim());
                o = Long.parseLong(po[1].trim());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(flag + " entries are <partition>:<offset>, got '" + part.trim() + "'");
            }
            if (!earliest.containsKey(p)) {
                throw new IllegalArgumentException(flag + ": partition " + p + " does not exist (the topic has "
                        + earliest.size() + " partition(s))");
            }
            if (o < earliest.get(p) || o > latest.get(p)) {
                throw new IllegalArgumentException(flag + ": offset " + o + " of partition " + p + " is outside the offsets it holds ["
                        + earliest.get(p) + ", " + latest.get(p) + "]");
            }
            out.put(p, o);
        }
        return out;
    }

    /** Epoch milliseconds of an ISO-8601 instant or a plain number; null when the spec is neither. */
    static Long instant(String spec) {
        String v = spec.trim();
        if (v.matches("\\d{10,}")) {
            return Long.parseLong(v);
        }
        try {
            return Instant.parse(v).toEpochMilli();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static Map<Integer, Long> list(Admin admin, List<TopicPartition> partitions, OffsetSpec spec)
            throws InterruptedException, ExecutionException, TimeoutException {
        Map<TopicPartition, OffsetSpec> request = new LinkedHashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        Map<Integer, Long> out = new TreeMap<>();
        var result = admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                .get(30, TimeUnit.SECONDS);
        result.forEach((tp, info) -> out.put(tp.partition(), info.offset()));
        return out;
    }
}
