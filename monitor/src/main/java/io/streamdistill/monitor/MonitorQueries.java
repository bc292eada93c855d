package io.streamdistill.monitor;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * What the monitor knows, read from its state stores (interactive queries), shaped for the JSON
 * endpoints, the Prometheus page and the dashboard. The same code reads a running KafkaStreams or
 * a TopologyTestDriver, through {@link Stores}.
 */
public final class MonitorQueries {

    /** Access to the topology's stores. */
    public interface Stores {
        ReadOnlyWindowStore<String, TrafficStats> traffic();

        ReadOnlyWindowStore<String, Long> deadLetters();

        ReadOnlyKeyValueStore<String, TrafficStats> reference();

        ReadOnlyKeyValueStore<String, ShadowStats> shadow();

        ReadOnlyKeyValueStore<String, ?> checkpoints();
    }

    private final Stores stores;
    private final Duration window;

    public MonitorQueries(Stores stores, Duration window) {
        this.stores = stores;
        this.window = window;
    }

    /** One window of traffic with its drift against the reference, oldest first, over the last {@code minutes}. */
    public List<Map<String, Object>> traffic(Instant now, int minutes) {
        TrafficStats reference = stores.reference().get(MonitorTopology.REFERENCE_KEY);
        List<Map<String, Object>> out = new ArrayList<>();
        try (KeyValueIterator<Windowed<String>, TrafficStats> it = stores.traffic().fetchAll(now.minus(Duration.ofMinutes(minutes)), now)) {
            while (it.hasNext()) {
                KeyValue<Windowed<String>, TrafficStats> kv = it.next();
                TrafficStats s = kv.value;
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("window_start", kv.key.window().startTime().toString());
                m.put("records", s.records);
                m.put("records_per_second", s.records / (double) window.toSeconds());
                m.put("teacher_latency_p50_ms", round(s.latencyQuantileSeconds(0.5) * 1000));
                m.put("teacher_latency_p99_ms", round(s.latencyQuantileSeconds(0.99) * 1000));
                m.put("truncated", s.truncated);
                m.put("class_shares", s.classShares());
                m.put("drift", round(s.driftFrom(reference)));
                m.put("complete", !kv.key.window().endTime().isAfter(now));
                out.add(m);
            }
        }
        out.sort(Comparator.comparing(m -> (String) m.get("window_start")));
        return out;
    }

    /** Dead letters per reason and window over the last {@code minutes}. */
    public List<Map<String, Object>> deadLetters(Instant now, int minutes) {
        List<Map<String, Object>> out = new ArrayList<>();
        try (KeyValueIterator<Windowed<String>, Long> it = stores.deadLetters().fetchAll(now.minus(Duration.ofMinutes(minutes)), now)) {
            while (it.hasNext()) {
                KeyValue<Windowed<String>, Long> kv = it.next();
                out.add(Map.of("window_start", kv.key.window().startTime().toString(), "reason", kv.key.key(), "count", kv.value));
            }
        }
        out.sort(Comparator.comparing(m -> (String) m.get("window_start")));
        return out;
    }

    /** Dead letters per reason over the store's whole retention. */
    public Map<String, Long> deadLettersByReason() {
        Map<String, Long> out = new TreeMap<>();
        try (KeyValueIterator<Windowed<String>, Long> it = stores.deadLetters().all()) {
            while (it.hasNext()) {
                KeyValue<Windowed<String>, Long> kv = it.next();
                out.merge(kv.key.key(), kv.value, Long::sum);
            }
        }
        return out;
    }

    /** Every scored student version, by student then version. */
    public List<Map<String, Object>> shadow() {
        List<ShadowStats> all = new ArrayList<>();
        try (KeyValueIterator<String, ShadowStats> it = stores.shadow().all()) {
            it.forEachRemaining(kv -> all.add(kv.value));
        }
        all.sort(Comparator.comparing((ShadowStats s) -> s.student).thenComparingLong(s -> s.version));
        List<Map<String, Object>> out = new ArrayList<>();
        for (ShadowStats s : all) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("student", s.student);
            m.put("version", s.version);
            m.put("task", s.task);
            m.put("created_at", s.createdAt);
            m.put("records_seen", s.recordsSeen);
            m.put("shadow_records", s.records);
            m.put("shadow_agreement", round(s.agreement()));
            m.put("shadow_kl", round(s.kl()));
            m.put("checkpoint_holdout_agreement", round(s.checkpointMetrics.getOrDefault("holdout_agreement", Double.NaN)));
            m.put("checkpoint_loss", round(s.checkpointMetrics.getOrDefault("progressive_loss", Double.NaN)));
            // Data-parallel training: how many training subtasks made it, and the sync traffic so far (absent before).
            m.put("trainer_parallelism", round(s.checkpointMetrics.getOrDefault("trainer_parallelism", Double.NaN)));
            m.put("sync_bytes_total", round(s.checkpointMetrics.getOrDefault("sync_bytes_total", Double.NaN)));
            m.put("refused", s.refused);
            out.add(m);
        }
        return out;
    }

    /** The figures the dashboard's tiles show: the last complete window, the newest versions, totals. */
    public Map<String, Object> summary(Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Map<String, Object>> windows = traffic(now, 60);
        Map<String, Object> last = null;
        for (Map<String, Object> w : windows) {
            if (Boolean.TRUE.equals(w.get("complete"))) {
                last = w;
            }
        }
        m.put("window_seconds", window.toSeconds());
        m.put("last_window_start", last == null ? null : last.get("window_start"));
        m.put("records_per_second", last == null ? null : round((Double) last.get("records_per_second")));
        m.put("teacher_latency_p50_ms", last == null ? null : last.get("teacher_latency_p50_ms"));
        m.put("teacher_latency_p99_ms", last == null ? null : last.get("teacher_latency_p99_ms"));
        m.put("drift", last == null ? null : last.get("drift"));
        m.put("class_shares", last == null ? Map.of() : namedShares((double[]) last.get("class_shares")));
        long records = windows.stream().mapToLong(w -> (Long) w.get("records")).sum();
        m.put("soft_targets_last_hour", records);
        Map<String, Long> dead = deadLettersByReason();
        m.put("dead_letters", dead.values().stream().mapToLong(Long::longValue).sum());
        m.put("dead_letters_by_reason", dead);
        Map<String, Map<String, Object>> students = new LinkedHashMap<>();
        for (Map<String, Object> s : shadow()) {
            students.put((String) s.get("student"), s); // sorted by version: the newest wins
        }
        m.put("students", students);
        return m;
    }

    /** Class shares named after a published student's classes when one has as many (else by index). */
    private Map<String, Double> namedShares(double[] shares) {
        List<String> names = null;
        try (KeyValueIterator<String, ?> it = stores.checkpoints().all()) {
            while (it.hasNext() && names == null) {
                Object v = unwrap(it.next().value);
                if (v instanceof io.streamdistill.records.StudentCheckpoint cp && cp.getClassNames() != null
                        && cp.getClassNames().size() == shares.length) {
                    names = cp.getClassNames();
                }
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < shares.length; i++) {
            out.put(names != null ? names.get(i) : String.valueOf(i), round(shares[i]));
        }
        return out;
    }

    static Double round(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? null : Math.round(v * 10000) / 10000.0;
    }

    static Object unwrap(Object v) {
        return v instanceof ValueAndTimestamp<?> vt ? vt.value() : v;
    }
}
