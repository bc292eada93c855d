package io.streamdistill.schemas;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** The one way the services' small HTTP endpoints (health, metrics, monitor, serving) answer. */
public final class HttpReplies {

    /** Sends {@code body} with this status and content type; never cached (every answer is live state). */
    public static void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
        ex.getResponseHeaders().add("Content-Type", contentType);
        ex.getResponseHeaders().add("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    /** Like {@link #send(HttpExchange, int, String, byte[])}, the body as UTF-8 text. */
    public static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
        send(ex, status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    private HttpReplies() {
    }
}
