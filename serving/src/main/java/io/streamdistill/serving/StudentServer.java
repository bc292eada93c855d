package io.streamdistill.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.streamdistill.schemas.HttpReplies;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * HTTP inference on the current student: {@code POST /v1/predict} with {@code {"text": "..."}} or
 * {@code {"texts": [...]}} (up to {@value #MAX_TEXTS}) answers probabilities per class, or
 * embeddings, and the version that answered; {@code GET /v1/model}; {@code /metrics} (Prometheus:
 * requests by outcome, a latency histogram, the current version, swaps, refusals); {@code /health};
 * {@code /ready} (200 once a version is loaded).
 */
public final class StudentServer implements AutoCloseable {
    public static final int MAX_TEXTS = 256;

    /**
     * What one request may carry: body bytes (over it: 413), texts per request and characters per text
     * (over them: 400), each refusal with a JSON reason and counted by reason.
     */
    public record Limits(int maxBodyBytes, int maxTexts, int maxTextChars) {
        public static final Limits DEFAULTS = new Limits(1 << 20, MAX_TEXTS, 10_000);

        public Limits {
            if (maxBodyBytes < 16 || maxTexts < 1 || maxTextChars < 1) {
                throw new IllegalArgumentException("request limits must be positive (body >= 16 bytes), got " + maxBodyBytes + " bytes, "
                        + maxTexts + " texts, " + maxTextChars + " characters");
            }
        }
    }

    /** A request refused by a limit or as malformed: its status, the reason counted, and what to tell the client. */
    private static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;
        final String reason;

        Refused(int status, String reason, String message) {
            super(message, null, false, false);
            this.status = status;
            this.reason = reason;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double[] BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

    private final HttpServer server;
    private final ExecutorService executor;
    private final ModelHolder holder;
    private final LongSupplier refused;
    private final Map<String, AtomicLong> requests = new LinkedHashMap<>();
    private final AtomicLong texts = new AtomicLong();
    private final AtomicLongArray latency = new AtomicLongArray(BUCKETS.length + 1);
    private final AtomicLong latencySumMicros = new AtomicLong();
    private final Limits limits;
    private final Cascade cascade;
    private final Map<String, AtomicLong> rejected = new java.util.concurrent.ConcurrentHashMap<>();

    public StudentServer(int port, int threads, ModelHolder holder, LongSupplier refused) {
        this("127.0.0.1", port, threads, holder, refused, Limits.DEFAULTS);
    }

    public StudentServer(String bind, int port, int threads, ModelHolder holder, LongSupplier refused, Limits limits) {
        this(bind, port, threads, holder, refused, limits, null);
    }

    /** @param cascade null, or the teacher answering what the student is unsure of */
    public StudentServer(String bind, int port, int threads, ModelHolder holder, LongSupplier refused, Limits limits, Cascade cascade) {
        this.cascade = cascade;
        this.holder = holder;
        this.refused = refused;
        this.limits = limits;
        for (String reason : List.of("body_too_large", "too_many_texts", "text_too_long", "malformed", "method")) {
            rejected.put(reason, new AtomicLong());
        }
        for (String outcome : List.of("ok", "bad_request", "unavailable", "error")) {
            requests.put(outcome, new AtomicLong());
        }
        try {
            server = HttpServer.create(new InetSocketAddress(bind, port), 128);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on port " + port + ": " + e.getMessage(), e);
        }
        executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "serve-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/v1/predict", this::predict);
        server.createContext("/v1/model", ex -> {
            ServedModel m = holder.peek();
            Map<String, Object> body = new LinkedHashMap<>();
            if (m != null) {
                body.put("student", m.student());
                body.put("version", m.version());
                body.put("sha256", m.sha256());
                body.put("task", m.task());
                body.put("class_names", m.classNames());
                body.put("loaded_at", m.loadedAt().toString());
            }
            body.put("swaps", holder.swaps());
            body.put("refused", refused.getAsLong());
            if (cascade != null && m != null && m.task().equals("CLASSIFICATION")) {
                body.put("cascade", cascade.describe(m));
            }
            send(ex, m == null ? 503 : 200, body);
        });
        server.createContext("/metrics", ex -> HttpReplies.send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", prometheus()));
        server.createContext("/health", ex -> HttpReplies.send(ex, 200, "text/plain", "ok\n"));
        server.createContext("/ready", ex -> {
            boolean ready = holder.peek() != null;
            HttpReplies.send(ex, ready ? 200 : 503, "text/plain", ready ? "ready\n" : "not ready: no student version loaded yet\n");
        });
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void predict(HttpExchange ex) throws IOException {
        long t0 = System.nanoTime();
        String outcome = "error";
        try {
            List<String> input;
            try {
                if (!ex.getRequestMethod().equals("POST")) {
                    throw new Refused(405, "method", "use POST with {\"text\": ...} or {\"texts\": [...]}");
                }
                input = texts(body(ex));
            } catch (Refused r) {
                outcome = "bad_request";
                rejected.get(r.reason).incrementAndGet();
                Map<String, Object> reply = new LinkedHashMap<>();
                reply.put("error", r.getMessage());
                reply.put("reason", r.reason);
                send(ex, r.status, reply);
                return;
            }
            try (ModelHolder.Lease lease = holder.acquire()) {
                if (lease == null) {
                    outcome = "unavailable";
                    send(ex, 503, Map.of("error", "no student version is loaded yet"));
                    return;
                }
                ServedModel m = lease.model();
                float[][] out = m.score(input); // one version for the whole request
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("student", m.student());
                body.put("version", m.version());
                body.put("sha256", m.sha256());
                if (m.task().equals("CLASSIFICATION")) {
                    List<Map<String, Object>> predictions = new ArrayList<>();
                    if (cascade != null) {
                        for (Cascade.Answer a : cascade.answer(m, input, out)) {
                            Map<String, Object> p = m.answer(a.probabilities());
                            p.put("answered_by", a.byTeacher() ? "teacher" : "student");
                            predictions.add(p);
                        }
                    } else {
                        for (float[] p : out) {
                            predictions.add(m.answer(p));
                        }
                    }
                    body.put("predictions", predictions);
                } else {
                    body.put("embeddings", out);
                }
                texts.addAndGet(input.size());
                outcome = "ok";
                send(ex, 200, body);
            }
        } catch (RuntimeException e) {
            send(ex, 500, Map.of("error", e.toString()));
        } finally {
            requests.get(outcome).incrementAndGet();
            observe((System.nanoTime() - t0) / 1e9);
        }
    }

    /** The request body as JSON, read no further than the limit. */
    private JsonNode body(HttpExchange ex) throws Refused, IOException {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.trim()) > limits.maxBodyBytes()) {
                    throw new Refused(413, "body_too_large", "the body is " + length.trim() + " bytes, over the limit of "
                            + limits.maxBodyBytes());
                }
            } catch (NumberFormatException e) {
                throw new Refused(400, "malformed", "Content-Length is not a number");
            }
        }
        byte[] bytes = ex.getRequestBody().readNBytes(limits.maxBodyBytes() + 1);
        if (bytes.length > limits.maxBodyBytes()) {
            throw new Refused(413, "body_too_large", "the body is over the limit of " + limits.maxBodyBytes() + " bytes");
        }
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new Refused(400, "malformed", "the body is not JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j
                    ? j.getOriginalMessage() : e.getMessage()));
        }
    }

    private List<String> texts(JsonNode body) throws Refused {
        List<String> out = new ArrayList<>();
        if (body != null && body.has("text") && body.get("text").isTextual()) {
            out.add(body.get("text").asText());
        } else if (body != null && body.has("texts") && body.get("texts").isArray()) {
            if (body.get("texts").size() > limits.maxTexts()) {
                throw new Refused(400, "too_many_texts", "send 1 to " + limits.maxTexts() + " texts per request, got "
                        + body.get("texts").size());
            }
            for (JsonNode t : body.get("texts")) {
                if (!t.isTextual()) {
                    throw new Refused(400, "malformed", "every entry of 'texts' must be a string");
                }
                out.add(t.asText());
            }
        } else {
            throw new Refused(400, "malformed", "send {\"text\": \"...\"} or {\"texts\": [\"...\", ...]}");
        }
        if (out.isEmpty()) {
            throw new Refused(400, "malformed", "send 1 to " + limits.maxTexts() + " texts per request, got 0");
        }
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).length() > limits.maxTextChars()) {
                throw new Refused(400, "text_too_long", "text " + i + " has " + out.get(i).length() + " characters, over the limit of "
                        + limits.maxTextChars());
            }
        }
        return out;
    }

    private void observe(double seconds) {
        int i = 0;
        while (i < BUCKETS.length && seconds > BUCKETS[i]) {
            i++;
        }
        latency.incrementAndGet(i);
        latencySumMicros.addAndGet((long) (seconds * 1e6));
    }

    String prometheus() {
        StringBuilder out = new StringBuilder();
        out.append("# HELP streamdistill_serving_requests_total Prediction requests by outcome.\n")
                .append("# TYPE streamdistill_serving_requests_total counter\n");
        requests.forEach((k, v) -> out.append("streamdistill_serving_requests_total{outcome=\"").append(k).append("\"} ")
                .append(v.get()).append('\n'));
        out.append("# HELP streamdistill_serving_rejected_total Requests refused before scoring, by reason (a limit, malformed, method).\n")
                .append("# TYPE streamdistill_serving_rejected_total counter\n");
        new java.util.TreeMap<>(rejected).forEach((k, v) -> out.append("streamdistill_serving_rejected_total{reason=\"").append(k)
                .append("\"} ").append(v.get()).append('\n'));
        out.append("# HELP streamdistill_serving_texts_total Texts scored.\n# TYPE streamdistill_serving_texts_total counter\n")
                .append("streamdistill_serving_texts_total ").append(texts.get()).append('\n');
        out.append("# HELP streamdistill_serving_request_seconds Prediction request latency.\n")
                .append("# TYPE streamdistill_serving_request_seconds histogram\n");
        long cumulative = 0;
        for (int i = 0; i < BUCKETS.length; i++) {
            cumulative += latency.get(i);
            out.append("streamdistill_serving_request_seconds_bucket{le=\"").append(BUCKETS[i]).append("\"} ").append(cumulative).append('\n');
        }
        cumulative += latency.get(BUCKETS.length);
        out.append("streamdistill_serving_request_seconds_bucket{le=\"+Inf\"} ").append(cumulative).append('\n')
                .append("streamdistill_serving_request_seconds_sum ").append(String.format(Locale.ROOT, "%.6f", latencySumMicros.get() / 1e6))
                .append('\n').append("streamdistill_serving_request_seconds_count ").append(cumulative).append('\n');
        ServedModel m = holder.peek();
        out.append("# HELP streamdistill_serving_version The student version serving now (0: none).\n")
                .append("# TYPE streamdistill_serving_version gauge\n")
                .append("streamdistill_serving_version ").append(m == null ? 0 : m.version()).append('\n');
        out.append("# HELP streamdistill_serving_swaps_total Versions swapped in after the first.\n")
                .append("# TYPE streamdistill_serving_swaps_total counter\n")
                .append("streamdistill_serving_swaps_total ").append(holder.swaps()).append('\n');
        out.append("# HELP streamdistill_serving_refused_total Versions refused (sha256 mismatch, unreadable, failed warm-up).\n")
                .append("# TYPE streamdistill_serving_refused_total counter\n")
                .append("streamdistill_serving_refused_total ").append(refused.getAsLong()).append('\n');
        if (cascade != null) {
            out.append("# HELP streamdistill_serving_cascade_texts_total Texts answered through the cascade, by who answered.\n")
                    .append("# TYPE streamdistill_serving_cascade_texts_total counter\n")
                    .append("streamdistill_serving_cascade_texts_total{answered_by=\"student\"} ").append(cascade.texts() - cascade.teacherTexts())
                    .append('\n').append("streamdistill_serving_cascade_texts_total{answered_by=\"teacher\"} ").append(cascade.teacherTexts())
                    .append('\n');
            if (m != null && m.task().equals("CLASSIFICATION")) {
                Cascade.Calibration c = cascade.calibration(m);
                out.append("# HELP streamdistill_serving_cascade_estimated_agreement Agreement with the teacher the cascade scored on the"
                                + " held-out texts, for the version serving.\n")
                        .append("# TYPE streamdistill_serving_cascade_estimated_agreement gauge\n")
                        .append("streamdistill_serving_cascade_estimated_agreement ").append(String.format(Locale.ROOT, "%.6f", c.agreement()))
                        .append('\n');
            }
        }
        return out.toString();
    }

    private static void send(HttpExchange ex, int status, Object body) throws IOException {
        HttpReplies.send(ex, status, "application/json", JSON.writeValueAsBytes(body));
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
