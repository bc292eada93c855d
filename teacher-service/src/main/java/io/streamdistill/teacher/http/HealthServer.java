package io.streamdistill.teacher.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.streamdistill.schemas.HttpReplies;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code /health} (200 while the process works), {@code /ready} (200 while it consumes: a load
 * balancer or Kubernetes probe waits for it) and {@code /metrics} (Prometheus text).
 */
public final class HealthServer implements AutoCloseable {
    private final HttpServer server;

    /**
     * @param notReadyReason null while ready; otherwise the reason, sent with the 503 on /ready
     */
    public HealthServer(int port, BooleanSupplier healthy, Supplier<String> notReadyReason, Supplier<String> metrics)
            throws IOException {
        this("127.0.0.1", port, healthy, notReadyReason, metrics);
    }

    /** @param bind the address to listen on: 127.0.0.1 (the default), or 0.0.0.0 for every interface */
    public HealthServer(String bind, int port, BooleanSupplier healthy, Supplier<String> notReadyReason, Supplier<String> metrics)
            throws IOException {
        server = HttpServer.create(new InetSocketAddress(bind, port), 0);
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "health-http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/health", ex -> status(ex, healthy.getAsBoolean(), "ok\n", "failed\n"));
        server.createContext("/ready", ex -> {
            String reason = notReadyReason.get();
            status(ex, reason == null, "ready\n", "not ready: " + reason + "\n");
        });
        server.createContext("/metrics", ex -> HttpReplies.send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.get()));
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void status(HttpExchange ex, boolean ok, String yes, String no) throws IOException {
        HttpReplies.send(ex, ok ? 200 : 503, "text/plain; charset=utf-8", ok ? yes : no);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
