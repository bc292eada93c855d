package io.streamdistill.localstack;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The secure stack's registry endpoint: HTTPS (the broker's certificate, signed by the stack's CA)
 * with HTTP basic auth (the components' principals and passwords), forwarding each request to the
 * registry on its loopback-only plain port. Apicurio 2.6's own basic auth needs an OIDC server, which
 * this machine cannot reach, so TLS and authentication are terminated here instead.
 */
final class RegistryGateway implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryGateway.class);
    /** Request headers forwarded to the registry (hop-by-hop ones and Authorization stay here). */
    private static final Set<String> FORWARDED = Set.of("content-type", "accept", "accept-encoding");

    private final HttpsServer server;
    private final ExecutorService executor;
    private final HttpClient http;
    private final String upstream;
    private final BrokerSecurity security;

    private RegistryGateway(HttpsServer server, ExecutorService executor, String upstream, BrokerSecurity security) {
        this.server = server;
        this.executor = executor;
        this.upstream = upstream;
        this.security = security;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
    }

    /** Listens on 127.0.0.1:port (0: any free port) in front of {@code upstream} (the registry's http://127.0.0.1:port). */
    static RegistryGateway start(int port, String upstream, BrokerSecurity security) {
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(security.keystore())) {
                keys.load(in, security.storePassword().toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, security.storePassword().toCharArray());
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(kmf.getKeyManagers(), null, null);
            HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", Ports.claim(port, "registry gateway")), 64);
            server.setHttpsConfigurator(new HttpsConfigurator(tls));
            ExecutorService executor = Executors.newFixedThreadPool(8, r -> {
                Thread t = new Thread(r, "registry-gateway");
                t.setDaemon(true);
                return t;
            });
            RegistryGateway g = new RegistryGateway(server, executor, upstream, security);
            server.createContext("/", g::handle);
            server.setExecutor(executor);
            server.start();
            return g;
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new LocalStackException("cannot start the registry's TLS gateway: " + e.getMessage(), e);
        }
    }

    int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String user = authenticated(ex.getRequestHeaders().getFirst("Authorization"));
            if (user == null) {
                ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"streamdistill registry\"");
                reply(ex, 401, "{\"error_code\":401,\"message\":\"unauthorized: basic auth with a principal of the stack is required\"}");
                return;
            }
            byte[] body = ex.getRequestBody().readAllBytes();
            HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(upstream + ex.getRequestURI().toString()))
                    .timeout(Duration.ofSeconds(30))
                    .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(body));
            ex.getRequestHeaders().forEach((name, values) -> {
                if (FORWARDED.contains(name.toLowerCase())) {
                    values.forEach(v -> r.header(name, v));
                }
            });
            HttpResponse<byte[]> resp;
            try {
                resp = http.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                reply(ex, 502, "{\"error_code\":502,\"message\":\"the registry behind the gateway did not answer\"}");
                return;
            }
            resp.headers().firstValue("content-type").ifPresent(ct -> ex.getResponseHeaders().add("Content-Type", ct));
            byte[] out = resp.body();
            ex.sendResponseHeaders(resp.statusCode(), out.length == 0 ? -1 : out.length);
            if (out.length > 0) {
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(out);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warn("registry gateway: {} {} failed: {}", ex.getRequestMethod(), ex.getRequestURI(), e.toString());
        }
    }

    /** The principal a Basic authorization header proves, or null. */
    private String authenticated(String header) {
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException notBase64) {
            return null;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return null;
        }
        String user = decoded.substring(0, colon);
        if (!BrokerSecurity.PRINCIPALS.contains(user)) {
            return null;
        }
        byte[] expected = security.password(user).getBytes(StandardCharsets.UTF_8);
        byte[] given = decoded.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, given) ? user : null;
    }

    private static void reply(HttpExchange ex, int status, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
