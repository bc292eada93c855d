package io.streamdistill.serving;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * An HTTP front for the real schema registry that a test switches to answering 503 (a registry
 * outage as its clients see one) and back to forwarding every request.
 */
final class FlakyRegistry implements AutoCloseable {
    private final HttpServer server;
    private final URI real;
    private final HttpClient http = HttpClient.newHttpClient();
    private volatile boolean down;

    FlakyRegistry(String realUrl) throws IOException {
        this.real = URI.create(realUrl.endsWith("/") ? realUrl : realUrl + "/");
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    /** The registry's URL through this front (same path as the real one). */
    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + real.getPath().replaceAll("/$", "");
    }

    void down(boolean down) {
        this.down = down;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (down) {
                ex.sendResponseHeaders(503, -1);
                return;
            }
            URI target = URI.create(real.getScheme() + "://" + real.getAuthority() + ex.getRequestURI());
            byte[] body = ex.getRequestBody().readAllBytes();
            HttpRequest.Builder b = HttpRequest.newBuilder(target).method(ex.getRequestMethod(),
                    body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            String type = ex.getRequestHeaders().getFirst("Content-Type");
            if (type != null) {
                b.header("Content-Type", type);
            }
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            r.headers().firstValue("Content-Type").ifPresent(v -> ex.getResponseHeaders().set("Content-Type", v));
            ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(r.body());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
