package io.streamdistill.schemas.registry;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of the schema registry client. The keys are Confluent's, so existing client
 * configurations work unchanged; {@link #fromMap(Map)} validates them and names the bad key and
 * value in its error.
 */
public final class RegistryConfig {
    public static final String URL = "schema.registry.url";
    public static final String AUTO_REGISTER = "auto.register.schemas";
    public static final String CREDENTIALS_SOURCE = "basic.auth.credentials.source";
    public static final String USER_INFO = "basic.auth.user.info";
    public static final String TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location";
    public static final String TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";
    public static final String TRUSTSTORE_TYPE = "schema.registry.ssl.truststore.type";
    public static final String KEYSTORE_LOCATION = "schema.registry.ssl.keystore.location";
    public static final String KEYSTORE_PASSWORD = "schema.registry.ssl.keystore.password";
    public static final String KEYSTORE_TYPE = "schema.registry.ssl.keystore.type";
    public static final String KEY_PASSWORD = "schema.registry.ssl.key.password";
    public static final String REQUEST_TIMEOUT_MS = "schema.registry.request.timeout.ms";
    public static final String RETRY_BACKOFF_MS = "schema.registry.retry.backoff.ms";
    public static final String RETRY_BACKOFF_MAX_MS = "schema.registry.retry.backoff.max.ms";
    public static final String RETRY_TIMEOUT_MS = "schema.registry.retry.timeout.ms";

    private final List<URI> urls;
    private final boolean autoRegister;
    private final String userInfo;
    private final Path truststore;
    private final String truststorePassword;
    private final String truststoreType;
    private final Path keystore;
    private final String keystorePassword;
    private final String keystoreType;
    private final String keyPassword;
    private final Duration requestTimeout;
    private final Duration retryBackoff;
    private final Duration retryBackoffMax;
    private final Duration retryTimeout;

    private RegistryConfig(Builder b) {
        if (b.urls.isEmpty()) {
            throw new IllegalArgumentException(URL + " is required: the base URL of a Confluent-compatible "
                    + "registry, e.g. http://127.0.0.1:8081 or http://127.0.0.1:8080/apis/ccompat/v7 for Apicurio");
        }
        this.urls = List.copyOf(b.urls);
        this.autoRegister = b.autoRegister;
        this.userInfo = b.userInfo;
        this.truststore = b.truststore;
        this.truststorePassword = b.truststorePassword;
        this.truststoreType = b.truststoreType;
        this.keystore = b.keystore;
        this.keystorePassword = b.keystorePassword;
        this.keystoreType = b.keystoreType;
        this.keyPassword = b.keyPassword;
        this.requestTimeout = positive(REQUEST_TIMEOUT_MS, b.requestTimeout);
        this.retryBackoff = positive(RETRY_BACKOFF_MS, b.retryBackoff);
        this.retryBackoffMax = positive(RETRY_BACKOFF_MAX_MS, b.retryBackoffMax);
        if (b.retryTimeout.isNegative()) {
            throw new IllegalArgumentException(RETRY_TIMEOUT_MS + " must be >= 0, got " + b.retryTimeout.toMillis());
        }
        this.retryTimeout = b.retryTimeout;
        if (userInfo != null && userInfo.indexOf(':') < 0) {
            throw new IllegalArgumentException(USER_INFO + " must be 'user:password' (the value is not shown)");
        }
        for (var store : new Path[] {truststore, keystore}) {
            if (store != null && !Files.isReadable(store)) {
                throw new IllegalArgumentException("cannot read the key or trust store '" + store
                        + "' named by " + (store == truststore ? TRUSTSTORE_LOCATION : KEYSTORE_LOCATION));
            }
        }
    }

    private static Duration positive(String key, Duration d) {
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(key + " must be > 0, got " + d.toMillis());
        }
        return d;
    }

    public static Builder builder(String url) {
        return new Builder().urls(url);
    }

    /**
     * Reads Confluent-style client settings (e.g. a Kafka serializer's configs). Unknown keys are
     * ignored, since the same map holds the Kafka client's own settings.
     */
    public static RegistryConfig fromMap(Map<String, ?> configs) {
        Builder b = new Builder();
        Object url = configs.get(URL);
        if (url == null || url.toString().isBlank()) {
            throw new IllegalArgumentException(URL + " is required: the base URL of a Confluent-compatible registry");
        }
        b.urls(url.toString());
        if (configs.containsKey(AUTO_REGISTER)) {
            b.autoRegister(bool(AUTO_REGISTER, configs.get(AUTO_REGISTER)));
        }
        Object source = configs.get(CREDENTIALS_SOURCE);
        Object userInfo = configs.get(USER_INFO);
        if (source != null && !"USER_INFO".equalsIgnoreCase(source.toString())) {
            throw new IllegalArgumentException(CREDENTIALS_SOURCE + " '" + source + "' is not supported; use USER_INFO with "
                    + USER_INFO + "=user:password");
        }
        if (userInfo != null && !userInfo.toString().isEmpty()) {
            b.basicAuth(userInfo.toString());
        }
        if (configs.get(TRUSTSTORE_LOCATION) != null) {
            b.truststore(Path.of(configs.get(TRUSTSTORE_LOCATION).toString()), str(configs.get(TRUSTSTORE_PASSWORD)),
                    str(configs.get(TRUSTSTORE_TYPE)));
        }
        if (configs.get(KEYSTORE_LOCATION) != null) {
            b.keystore(Path.of(configs.get(KEYSTORE_LOCATION).toString()), str(configs.get(KEYSTORE_PASSWORD)),
                    str(configs.get(KEYSTORE_TYPE)), str(configs.get(KEY_PASSWORD)));
        }
        if (configs.containsKey(REQUEST_TIMEOUT_MS)) {
            b.requestTimeout(Duration.ofMillis(longValue(REQUEST_TIMEOUT_MS, configs.get(REQUEST_TIMEOUT_MS))));
        }
        if (configs.containsKey(RETRY_BACKOFF_MS)) {
            b.retryBackoff(Duration.ofMillis(longValue(RETRY_BACKOFF_MS, configs.get(RETRY_BACKOFF_MS))),
                    Duration.ofMillis(configs.containsKey(RETRY_BACKOFF_MAX_MS)
                            ? longValue(RETRY_BACKOFF_MAX_MS, configs.get(RETRY_BACKOFF_MAX_MS))
                            : b.retryBackoffMax.toMillis()));
        } else if (configs.containsKey(RETRY_BACKOFF_MAX_MS)) {
            b.retryBackoff(b.retryBackoff, Duration.ofMillis(longValue(RETRY_BACKOFF_MAX_MS, configs.get(RETRY_BACKOFF_MAX_MS))));
        }
        if (configs.containsKey(RETRY_TIMEOUT_MS)) {
            b.retryTimeout(Duration.ofMillis(longValue(RETRY_TIMEOUT_MS, configs.get(RETRY_TIMEOUT_MS))));
        }
        return b.build();
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    private static boolean bool(String key, Object v) {
        String s = v.toString().trim();
        if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException(key + " must be true or false, got '" + s + "'");
    }

    private static long longValue(String key, Object v) {
        try {
            return v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number of milliseconds, got '" + v + "'", e);
        }
    }

    public List<URI> urls() {
        return urls;
    }

    public boolean autoRegister() {
        return autoRegister;
    }

    /** "user:password" for HTTP basic auth, or null. */
    public String userInfo() {
        return userInfo;
    }

    public Path truststore() {
        return truststore;
    }

    public String truststorePassword() {
        return truststorePassword;
    }

    public String truststoreType() {
        return truststoreType;
    }

    public Path keystore() {
        return keystore;
    }

    public String keystorePassword() {
        return keystorePassword;
    }

    public String keystoreType() {
        return keystoreType;
    }

    public String keyPassword() {
        return keyPassword;
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }

    public Duration retryBackoff() {
        return retryBackoff;
    }

    public Duration retryBackoffMax() {
        return retryBackoffMax;
    }

    /** How long a request keeps retrying while the registry is down or answers 5xx; 0 = no retry. */
    public Duration retryTimeout() {
        return retryTimeout;
    }

    /** Never prints a secret: passwords are replaced by a marker. */
    @Override
    public String toString() {
        return "RegistryConfig{urls=" + urls + ", autoRegister=" + autoRegister
                + ", basicAuth=" + (userInfo == null ? "off" : userInfo.substring(0, userInfo.indexOf(':')) + ":[hidden]")
                + ", truststore=" + truststore + ", keystore=" + keystore
                + ", requestTimeout=" + requestTimeout.toMillis() + "ms, retryTimeout=" + retryTimeout.toMillis() + "ms}";
    }

    public static final class Builder {
        private final List<URI> urls = new ArrayList<>();
        private boolean autoRegister = true;
        private String userInfo;
        private Path truststore;
        private String truststorePassword;
        private String truststoreType = "JKS";
        private Path keystore;
        private String keystorePassword;
        private String keystoreType = "JKS";
        private String keyPassword;
        private Duration requestTimeout = Duration.ofSeconds(10);
        private Duration retryBackoff = Duration.ofMillis(200);
        private Duration retryBackoffMax = Duration.ofSeconds(5);
        private Duration retryTimeout = Duration.ofSeconds(60);

        /** One URL or several separated by commas; they are tried in order. */
        public Builder urls(String commaSeparated) {
            urls.clear();
            for (String part : commaSeparated.split(",")) {
                String u = part.trim();
                if (u.isEmpty()) {
                    continue;
                }
                URI uri;
                try {
                    uri = URI.create(u.endsWith("/") ? u.substring(0, u.length() - 1) : u);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(URL + " '" + u + "' is not a valid URL: " + e.getMessage(), e);
                }
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
                    throw new IllegalArgumentException(URL + " '" + u + "' must start with http:// or https://");
                }
                urls.add(uri);
            }
            return this;
        }

        public Builder autoRegister(boolean on) {
            this.autoRegister = on;
            return this;
        }

        public Builder basicAuth(String userColonPassword) {
            this.userInfo = Objects.requireNonNull(userColonPassword);
            return this;
        }

        public Builder truststore(Path location, String password, String type) {
            this.truststore = location;
            this.truststorePassword = password;
            if (type != null) {
                this.truststoreType = type;
            }
            return this;
        }

        public Builder keystore(Path location, String password, String type, String keyPassword) {
            this.keystore = location;
            this.keystorePassword = password;
            if (type != null) {
                this.keystoreType = type;
            }
            this.keyPassword = keyPassword;
            return this;
        }

        public Builder requestTimeout(Duration d) {
            this.requestTimeout = d;
            return this;
        }

        public Builder retryBackoff(Duration initial, Duration max) {
            this.retryBackoff = initial;
            this.retryBackoffMax = max;
            return this;
        }

        public Builder retryTimeout(Duration d) {
            this.retryTimeout = d;
            return this;
        }

        public RegistryConfig build() {
            return new RegistryConfig(this);
        }
    }
}
