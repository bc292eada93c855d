package io.streamdistill.schemas.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;

/**
 * A loopback HTTP server that answers with scripted statuses. A real registry cannot be made to
 * fail on demand, so the client's handling of 5xx, 401 and retries is checked against this; every
 * success path is tested against the real Apicurio Registry in integration-tests.
 */
final class FaultInjectingServer implements AutoCloseable {
    record Answer(int status, String body) {
    }

    private final HttpServer server;
    final List<String> authorizations = Collections.synchronizedList(new ArrayList<>());

    FaultInjectingServer(Function<Integer, Answer> answerForRequestNumber) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        int[] count = {0};
        server.createContext("/", (HttpExchange ex) -> {
            int n;
            synchronized (count) {
                n = ++count[0];
            }
            authorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            ex.getRequestBody().readAllBytes();
            Answer a = answerForRequestNumber.apply(n);
            byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(a.status(), body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
