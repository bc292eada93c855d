package io.streamdistill.monitor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.streamdistill.schemas.HttpReplies;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.apache.kafka.streams.errors.InvalidStateStoreException;

/**
 * The monitor over HTTP: {@code /} the dashboard page, {@code /api/summary}, {@code /api/traffic},
 * {@code /api/dead-letters}, {@code /api/shadow}, {@code /api/lag} (JSON), {@code /metrics}
 * (Prometheus text), {@code /health} and {@code /ready}.
 */
final class MonitorServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final Monitor monitor;
    private final byte[] dashboard;

    MonitorServer(String bind, int port, Monitor monitor) {
        this.monitor = monitor;
        try (InputStream in = MonitorServer.class.getResourceAsStream("/dashboard.html")) {
            this.dashboard = in.readAllBytes();
            server = HttpServer.create(new InetSocketAddress(bind, port), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the monitor's HTTP server on port " + port + ": " + e.getMessage(), e);
        }
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "monitor-http");
            t.setDaemon(true);
            return t;
        }));
        context("/", ex -> {
            if (!ex.getRequestURI().getPath().equals("/")) {
                HttpReplies.send(ex, 404, "text/plain", "not found\n");
            } else {
                HttpReplies.send(ex, 200, "text/html; charset=utf-8", dashboard);
            }
        });
        json("/api/summary", monitor::summary);
        json("/api/traffic", null);
        json("/api/dead-letters", null);
        json("/api/shadow", () -> monitor.queries().shadow());
        json("/api/lag", monitor::lag);
        context("/metrics", ex -> answer(ex, "text/plain; version=0.0.4; charset=utf-8",
                () -> Prometheus.render(monitor.summary(), monitor.queries().shadow())));
        context("/health", ex -> HttpReplies.send(ex, 200, "text/plain", "ok\n"));
        context("/ready", ex -> {
            boolean ready = monitor.isReady();
            HttpReplies.send(ex, ready ? 200 : 503, "text/plain",
                    (ready ? "ready\n" : "not ready: streams " + monitor.state() + "\n"));
        });
        server.start();
    }

    /** A read-only endpoint: GET and HEAD are answered, any other method gets 405. */
    private void context(String path, com.sun.net.httpserver.HttpHandler handler) {
        server.createContext(path, ex -> {
            String m = ex.getRequestMethod();
            if (!m.equals("GET") && !m.equals("HEAD")) {
                ex.getResponseHeaders().add("Allow", "GET, HEAD");
                HttpReplies.send(ex, 405, "application/json", "{\"error\": \"the monitor's endpoints are read-only: use GET\"}");
                return;
            }
            handler.handle(ex);
        });
    }

    private void json(String path, Supplier<Object> body) {
        context(path, ex -> answer(ex, "application/json", () -> {
            Object value = body != null ? body.get() : windowed(path, minutes(ex));
            try {
                return JSON.writeValueAsString(value);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }));
    }

    private Object windowed(String path, int minutes) {
        return path.equals("/api/traffic") ? monitor.queries().traffic(Instant.now(), minutes)
                : monitor.queries().deadLetters(Instant.now(), minutes);
    }

    private static int minutes(HttpExchange ex) {
        String q = ex.getRequestURI().getQuery();
        if (q != null) {
            for (String part : q.split("&")) {
                if (part.startsWith("minutes=")) {
                    try {
                        return Math.max(1, Math.min(24 * 60, Integer.parseInt(part.substring(8))));
                    } catch (NumberFormatException e) {
                        return 15;
                    }
                }
            }
        }
        return 15;
    }

    private static void answer(HttpExchange ex, String type, Supplier<String> body) throws IOException {
        try {
            HttpReplies.send(ex, 200, type, body.get());
        } catch (InvalidStateStoreException e) {
            // Starting or rebalancing: the stores come back by themselves.
            HttpReplies.send(ex, 503, "text/plain", ("not ready: " + e.getMessage() + "\n"));
        } catch (RuntimeException e) {
            HttpReplies.send(ex, 500, "text/plain", ("error: " + e + "\n"));
        }
    }

    int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    /** The Prometheus text exposition of the monitor's current figures. */
    static final class Prometheus {
        @SuppressWarnings("unchecked")
        static String render(Map<String, Object> summary, List<Map<String, Object>> shadow) {
            StringBuilder out = new StringBuilder();
            gauge(out, "streamdistill_monitor_soft_targets_per_second", "Soft targets per second in the last complete window.",
                    summary.get("records_per_second"));
            out.append("# HELP streamdistill_monitor_teacher_latency_seconds Teacher latency per record in the last complete window.\n")
                    .append("# TYPE streamdistill_monitor_teacher_latency_seconds gauge\n");
            sample(out, "streamdistill_monitor_teacher_latency_seconds{quantile=\"0.5\"}", ms(summary.get("teacher_latency_p50_ms")));
            sample(out, "streamdistill_monitor_teacher_latency_seconds{quantile=\"0.99\"}", ms(summary.get("teacher_latency_p99_ms")));
            out.append("# HELP streamdistill_monitor_class_share Share of each class in the teacher's predictions, last complete window.\n")
                    .append("# TYPE streamdistill_monitor_class_share gauge\n");
            ((Map<String, Double>) summary.get("class_shares")).forEach((c, v) ->
                    sample(out, "streamdistill_monitor_class_share{class=\"" + label(c) + "\"}", v));
            gauge(out, "streamdistill_monitor_drift", "Drift of the teacher's predictions from the reference window, 0..1.",
                    summary.get("drift"));
            out.append("# HELP streamdistill_monitor_dead_letters_total Dead letters by reason over the monitor's retention.\n")
                    .append("# TYPE streamdistill_monitor_dead_letters_total gauge\n");
            ((Map<String, Long>) summary.get("dead_letters_by_reason")).forEach((reason, n) ->
                    sample(out, "streamdistill_monitor_dead_letters_total{reason=\"" + label(reason) + "\"}", n));
            if (summary.get("unreadable_records") != null) {
                out.append("# HELP streamdistill_monitor_unreadable_records_total Records the monitor could not read and passed over"
                        + " (they stay in their topics; a registry outage is waited out, not counted).\n")
                        .append("# TYPE streamdistill_monitor_unreadable_records_total counter\n");
                sample(out, "streamdistill_monitor_unreadable_records_total", summary.get("unreadable_records"));
            }
            out.append("# HELP streamdistill_monitor_shadow_agreement Live holdout agreement (or cosine) of each student version.\n")
                    .append("# TYPE streamdistill_monitor_shadow_agreement gauge\n");
            StringBuilder kl = new StringBuilder("# HELP streamdistill_monitor_shadow_kl Live holdout KL of each student version.\n"
                    + "# TYPE streamdistill_monitor_shadow_kl gauge\n");
            StringBuilder records = new StringBuilder("# HELP streamdistill_monitor_shadow_records Holdout records each version was scored on.\n"
                    + "# TYPE streamdistill_monitor_shadow_records gauge\n");
            for (Map<String, Object> s : shadow) {
                String labels = "{student=\"" + label((String) s.get("student")) + "\",version=\"" + s.get("version") + "\"}";
                sample(out, "streamdistill_monitor_shadow_agreement" + labels, s.get("shadow_agreement"));
                sample(kl, "streamdistill_monitor_shadow_kl" + labels, s.get("shadow_kl"));
                sample(records, "streamdistill_monitor_shadow_records" + labels, s.get("shadow_records"));
            }
            out.append(kl).append(records);
            StringBuilder version = new StringBuilder("# HELP streamdistill_monitor_latest_version Newest published version per student.\n"
                    + "# TYPE streamdistill_monitor_latest_version gauge\n");
            StringBuilder loss = new StringBuilder("# HELP streamdistill_monitor_checkpoint_loss Progressive loss in the newest checkpoint record.\n"
                    + "# TYPE streamdistill_monitor_checkpoint_loss gauge\n");
            StringBuilder holdout = new StringBuilder("# HELP streamdistill_monitor_checkpoint_holdout_agreement Holdout agreement in the newest checkpoint record.\n"
                    + "# TYPE streamdistill_monitor_checkpoint_holdout_agreement gauge\n");
            StringBuilder parallelism = new StringBuilder("# HELP streamdistill_monitor_trainer_parallelism Training subtasks behind the"
                    + " newest checkpoint record.\n# TYPE streamdistill_monitor_trainer_parallelism gauge\n");
            StringBuilder sync = new StringBuilder("# HELP streamdistill_monitor_sync_bytes Sync bytes (moves sent and merged rounds read"
                    + " back) up to the newest checkpoint record, with train.parallelism above 1.\n"
                    + "# TYPE streamdistill_monitor_sync_bytes gauge\n");
            ((Map<String, Map<String, Object>>) summary.get("students")).forEach((student, s) -> {
                String labels = "{student=\"" + label(student) + "\"}";
                sample(version, "streamdistill_monitor_latest_version" + labels, s.get("version"));
                sample(loss, "streamdistill_monitor_checkpoint_loss" + labels, s.get("checkpoint_loss"));
                sample(holdout, "streamdistill_monitor_checkpoint_holdout_agreement" + labels, s.get("checkpoint_holdout_agreement"));
                sample(parallelism, "streamdistill_monitor_trainer_parallelism" + labels, s.get("trainer_parallelism"));
                sample(sync, "streamdistill_monitor_sync_bytes" + labels, s.get("sync_bytes_total"));
            });
            out.append(version).append(loss).append(holdout).append(parallelism).append(sync);
            out.append("# HELP streamdistill_monitor_consumer_lag Records behind the end of a topic, per consumer group.\n")
                    .append("# TYPE streamdistill_monitor_consumer_lag gauge\n");
            for (Map<String, Object> l : (List<Map<String, Object>>) summary.get("lag")) {
                sample(out, "streamdistill_monitor_consumer_lag{group=\"" + label((String) l.get("group")) + "\",topic=\""
                        + label((String) l.get("topic")) + "\"}", l.get("lag"));
            }
            return out.toString();
        }

        private static void gauge(StringBuilder out, String name, String help, Object value) {
            out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                    .append("# TYPE ").append(name).append(" gauge\n");
            sample(out, name, value);
        }

        private static void sample(StringBuilder out, String name, Object value) {
            if (value instanceof Number n) {
                out.append(name).append(' ').append(String.format(Locale.ROOT, "%s", n)).append('\n');
            }
        }

        private static Double ms(Object v) {
            return v instanceof Number n ? n.doubleValue() / 1000 : null;
        }

        private static String label(String v) {
            return v == null ? "" : v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
        }
    }
}
