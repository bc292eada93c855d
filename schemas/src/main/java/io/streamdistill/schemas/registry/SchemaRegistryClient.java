package io.streamdistill.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of the Confluent schema registry REST API, which Confluent's registry, Apicurio
 * ({@code /apis/ccompat/v7}), Karapace and Redpanda all serve.
 *
 * <p>Every answer that cannot change is cached (ids by subject and schema, schemas by id), so a
 * serializer or deserializer makes HTTP calls only for the first record of each schema. While the
 * registry is unreachable or answers 5xx, requests are retried with exponential backoff until
 * {@link RegistryConfig#retryTimeout()} runs out. Thread-safe.
 */
public final class SchemaRegistryClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryClient.class);
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A registered schema: its global id, the subject's version, and the schema. */
    public record RegisteredSchema(String subject, int id, int version, Schema schema) {
    }

    /** The answer of a compatibility check; {@code messages} explains a refusal when the registry says why. */
    public record Compatibility(boolean compatible, List<String> messages) {
    }

    private final RegistryConfig config;
    private final HttpClient http;
    private final String authorization;
    private final Map<String, Map<Schema, Integer>> idsBySubject = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    private final AtomicLong httpRequests = new AtomicLong();

    public SchemaRegistryClient(RegistryConfig config) {
        this.config = config;
        HttpClient.Builder b = HttpClient.newBuilder()
                .connectTimeout(config.requestTimeout())
                .version(HttpClient.Version.HTTP_1_1);
        if (config.truststore() != null || config.keystore() != null) {
            b.sslContext(sslContext(config));
        }
        this.http = b.build();
        this.authorization = config.userInfo() == null ? null
                : "Basic " + Base64.getEncoder().encodeToString(config.userInfo().getBytes(StandardCharsets.UTF_8));
    }

    public RegistryConfig config() {
        return config;
    }

    /** How many HTTP requests this client has sent (retries included): the caches keep it flat. */
    public long httpRequests() {
        return httpRequests.get();
    }

    /** Registers the schema under the subject (or finds it already there) and returns its id. */
    public int register(String subject, Schema schema) {
        Map<Schema, Integer> ids = idsBySubject.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
        Integer cached = ids.get(schema);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = send("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema),
                (status, code, msg) -> switch (status) {
                    case 409 -> new IncompatibleSchemaException("the registry refused schema " + schema.getFullName()
                            + " under subject '" + subject + "': it breaks the subject's compatibility rule. Registry says: "
                            + msg + ". Make the change compatible (add fields with defaults, never remove or retype"
                            + " one without a default) or register it under a new subject.", status, code, null);
                    case 422 -> new InvalidSchemaException("the registry cannot accept schema " + schema.getFullName()
                            + " under subject '" + subject + "': " + msg, status, code, null);
                    default -> null;
                });
        int id = answer.path("id").asInt(-1);
        if (id < 0) {
            throw new RegistryRequestException("the registry answered the registration of subject '" + subject
                    + "' without an id: " + answer, 200, -1, null);
        }
        ids.put(schema, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    /**
     * Finds the id of a schema already registered under the subject, without registering it.
     *
     * @throws SchemaNotRegisteredException when the subject or the schema is not there
     */
    public int idOf(String subject, Schema schema) {
        Map<Schema, Integer> ids = idsBySubject.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
        Integer cached = ids.get(schema);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = send("POST", "/subjects/" + encode(subject), schemaBody(schema),
                (status, code, msg) -> status == 404
                        ? new SchemaNotRegisteredException("schema " + schema.getFullName() + " is not registered under"
                                + " subject '" + subject + "' (" + msg + "). Register it first, or enable "
                                + RegistryConfig.AUTO_REGISTER + ".", status, code, null)
                        : null);
        int id = answer.path("id").asInt(-1);
        ids.put(schema, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    /**
     * The schema with the given id.
     *
     * @throws UnknownSchemaIdException when the registry has no such id
     */
    public Schema schemaById(int id) {
        Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = send("GET", "/schemas/ids/" + id, null,
                (status, code, msg) -> status == 404
                        ? new UnknownSchemaIdException("schema id " + id + " is not in the registry at " + config.urls()
                                + " (" + msg + "). The record was written against another registry, or this registry lost"
                                + " its data; check schema.registry.url of the producer and of this consumer.", status, code, null)
                        : null);
        String type = answer.path("schemaType").asText("AVRO");
        if (!"AVRO".equals(type)) {
            throw new InvalidSchemaException("schema id " + id + " is a " + type + " schema, not Avro", 200, -1, null);
        }
        Schema schema = parse(answer.path("schema").asText(), "schema id " + id);
        Schema raced = schemasById.putIfAbsent(id, schema);
        return raced == null ? schema : raced;
    }

    /** The latest version registered under a subject (not cached: it changes). */
    public RegisteredSchema latest(String subject) {
        JsonNode answer = send("GET", "/subjects/" + encode(subject) + "/versions/latest", null,
                (status, code, msg) -> status == 404
                        ? new SchemaNotRegisteredException("subject '" + subject + "' has no versions: " + msg, status, code, null)
                        : null);
        Schema schema = parse(answer.path("schema").asText(), "subject '" + subject + "'");
        return new RegisteredSchema(subject, answer.path("id").asInt(), answer.path("version").asInt(), schema);
    }

    /** All subjects the registry knows. */
    public List<String> subjects() {
        JsonNode answer = send("GET", "/subjects", null, (s, c, m) -> null);
        List<String> out = new ArrayList<>();
        answer.forEach(n -> out.add(n.asText()));
        return out;
    }

    /**
     * Asks whether the schema could be registered under the subject given its compatibility rule.
     * A subject with no versions yet accepts anything.
     */
    public Compatibility checkCompatibility(String subject, Schema schema) {
        JsonNode answer;
        try {
            answer = send("POST", "/compatibility/subjects/" + encode(subject) + "/versions/latest?verbose=true",
                    schemaBody(schema), (status, code, msg) -> status == 404
                            ? new SchemaNotRegisteredException(msg, status, code, null) : null);
        } catch (SchemaNotRegisteredException noSubjectYet) {
            return new Compatibility(true, List.of());
        }
        List<String> messages = new ArrayList<>();
        answer.path("messages").forEach(m -> messages.add(m.asText()));
        if (answer.hasNonNull("reason")) {
            messages.add(answer.get("reason").asText());
        }
        return new Compatibility(answer.path("is_compatible").asBoolean(false), List.copyOf(messages));
    }

    /** Sets the compatibility rule of one subject, or the global default when subject is null. */
    public void setCompatibility(String subject, String level) {
        ObjectNode body = JSON.createObjectNode().put("compatibility", level);
        send("PUT", subject == null ? "/config" : "/config/" + encode(subject), body.toString(), (s, c, m) -> null);
    }

    /** The compatibility rule of one subject (falling back to the global one), or the global rule when subject is null. */
    public String compatibility(String subject) {
        String path = subject == null ? "/config" : "/config/" + encode(subject) + "?defaultToGlobal=true";
        JsonNode answer = send("GET", path, null, (s, c, m) -> null);
        return answer.has("compatibilityLevel") ? answer.get("compatibilityLevel").asText()
                : answer.path("compatibility").asText();
    }

    @Override
    public void close() {
        // java.net.http.HttpClient has no close() before Java 21; its threads are daemons.
    }

    @FunctionalInterface
    private interface ErrorMapper {
        /** Returns a specific exception for a 4xx answer, or null for the generic one. */
        RegistryException map(int status, int errorCode, String message);
    }

    private JsonNode send(String method, String pathAndQuery, String body, ErrorMapper errors) {
        long deadline = System.nanoTime() + config.retryTimeout().toNanos();
        long backoff = config.retryBackoff().toMillis();
        int attempt = 0;
        while (true) {
            for (URI base : config.urls()) {
                attempt++;
                URI uri = URI.create(base + pathAndQuery);
                HttpResponse<String> response;
                try {
                    response = http.send(request(method, uri, body), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    if (System.nanoTime() >= deadline) {
                        throw new RegistryUnavailableException("the schema registry at " + base + " could not be reached ("
                                + e + ") after " + attempt + " attempt(s) over " + config.retryTimeout().toMillis()
                                + " ms. Check that it is running and that " + RegistryConfig.URL + " is right.", -1, -1, e);
                    }
                    LOG.warn("schema registry {} unreachable ({}); attempt {}, retrying in {} ms", base, e.toString(), attempt, backoff);
                    continue;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RegistryUnavailableException("interrupted while calling the schema registry at " + base,
                            -1, -1, e);
                }
                int status = response.statusCode();
                if (status >= 200 && status < 300) {
                    return readJson(response.body(), uri);
                }
                int code = -1;
                String message = response.body();
                try {
                    JsonNode err = JSON.readTree(response.body());
                    code = err.path("error_code").asInt(-1);
                    if (err.hasNonNull("message")) {
                        message = err.get("message").asText();
                    }
                } catch (IOException notJson) {
                    // Keep the raw body as the message: proxies answer HTML.
                }
                if (status >= 500 || status == 408 || status == 429) {
                    if (System.nanoTime() >= deadline) {
                        throw new RegistryServerException("the schema registry at " + base + " answered HTTP " + status
                                + " (error code " + code + ": " + message + ") to " + method + " " + pathAndQuery
                                + " and kept failing for " + config.retryTimeout().toMillis()
                                + " ms. Check the registry's own log and its storage.", status, code, null);
                    }
                    LOG.warn("schema registry {} answered HTTP {} to {} {}; attempt {}, retrying in {} ms",
                            base, status, method, pathAndQuery, attempt, backoff);
                    continue;
                }
                if (status == 401 || status == 403) {
                    throw new RegistryAuthException("the schema registry at " + base + " refused " + method + " "
                            + pathAndQuery + " with HTTP " + status + ": " + message + ". Check "
                            + RegistryConfig.USER_INFO + " and the account's rights.", status, code, null);
                }
                RegistryException specific = errors.map(status, code, message);
                if (specific != null) {
                    throw specific;
                }
                throw new RegistryRequestException("the schema registry at " + base + " refused " + method + " "
                        + pathAndQuery + " with HTTP " + status + " (error code " + code + "): " + message, status, code, null);
            }
            sleep(Math.min(backoff, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
            backoff = Math.min(config.retryBackoffMax().toMillis(), backoff * 2);
        }
    }

    private HttpRequest request(String method, URI uri, String body) {
        httpRequests.incrementAndGet();
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .timeout(config.requestTimeout())
                .header("Accept", CONTENT_TYPE + ", application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null) {
            b.header("Content-Type", CONTENT_TYPE);
        }
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return b.build();
    }

    private static void sleep(long millis) {
        // Jitter keeps many clients from retrying in lockstep after a registry restart.
        long jittered = millis / 2 + ThreadLocalRandom.current().nextLong(millis / 2 + 1);
        try {
            Thread.sleep(jittered);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryUnavailableException("interrupted while waiting to retry the schema registry", -1, -1, e);
        }
    }

    private static JsonNode readJson(String body, URI uri) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new RegistryRequestException("the schema registry answered " + uri + " with something that is not JSON: "
                    + abbreviate(body), 200, -1, e);
        }
    }

    private static String schemaBody(Schema schema) {
        return JSON.createObjectNode().put("schema", schema.toString()).toString();
    }

    private static Schema parse(String text, String what) {
        try {
            return new Schema.Parser().parse(text);
        } catch (SchemaParseException e) {
            throw new InvalidSchemaException("the registry's schema for " + what + " is not valid Avro: " + e.getMessage(),
                    200, -1, e);
        }
    }

    private static String encode(String subject) {
        return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    private static SSLContext sslContext(RegistryConfig c) {
        try {
            TrustManagerFactory tmf = null;
            if (c.truststore() != null) {
                KeyStore trust = load(c.truststore(), c.truststorePassword(), c.truststoreType());
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
            }
            KeyManagerFactory kmf = null;
            if (c.keystore() != null) {
                KeyStore keys = load(c.keystore(), c.keystorePassword(), c.keystoreType());
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                String keyPassword = c.keyPassword() != null ? c.keyPassword() : c.keystorePassword();
                kmf.init(keys, keyPassword == null ? null : keyPassword.toCharArray());
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot set up TLS for the schema registry from " + c.truststore() + " / "
                    + c.keystore() + ": " + e.getMessage() + " (check the store type and password)", e);
        }
    }

    private static KeyStore load(java.nio.file.Path path, String password, String type)
            throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance(type);
        try (InputStream in = Files.newInputStream(path)) {
            ks.load(in, password == null ? null : password.toCharArray());
        }
        return ks;
    }
}
