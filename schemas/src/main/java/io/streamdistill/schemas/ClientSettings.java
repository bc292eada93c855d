package io.streamdistill.schemas;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * How a service's flat settings reach its clients: {@code kafka.*} keys go to the Kafka clients
 * without the prefix; {@code schema.registry.*} and {@code basic.auth.*} go to the registry client
 * as they are; {@code s3.*} go to the object-store clients (Flink's S3 file system's own key names). Also the one rule for which settings are secrets, so no service logs one.
 */
public final class ClientSettings {
    public static final String KAFKA_PREFIX = "kafka.";

    /** True for the keys that pass through to a client. */
    public static boolean isPassThrough(String key) {
        return key.startsWith(KAFKA_PREFIX) || key.startsWith("schema.registry.") || key.startsWith("basic.auth.") || key.startsWith("s3.");
    }

    /** Kafka client settings: every {@code kafka.*} key without its prefix. */
    public static Map<String, Object> kafka(Map<String, String> settings) {
        Map<String, Object> m = new LinkedHashMap<>();
        settings.forEach((k, v) -> {
            if (k.startsWith(KAFKA_PREFIX)) {
                m.put(k.substring(KAFKA_PREFIX.length()), v);
            }
        });
        return m;
    }

    /** Registry client settings (Confluent key names), as they are. */
    public static Map<String, Object> registry(Map<String, String> settings) {
        Map<String, Object> m = new LinkedHashMap<>();
        settings.forEach((k, v) -> {
            if (k.startsWith("schema.registry.") || k.startsWith("basic.auth.")) {
                m.put(k, v);
            }
        });
        return m;
    }

    /** Whether a setting holds a credential (passwords, JAAS configs, user info, tokens, keys). */
    public static boolean isSecret(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.contains("password") || k.contains("secret") || k.contains("user.info") || k.contains("sasl.jaas")
                || k.contains("credentials") || k.endsWith("token") || k.contains("token.") || k.endsWith(".key");
    }

    /** The settings sorted, secrets replaced by {@code [hidden]}: safe to log. */
    public static String masked(Map<String, String> settings) {
        Map<String, String> shown = new TreeMap<>();
        settings.forEach((k, v) -> shown.put(k, isSecret(k) ? "[hidden]" : v));
        return shown.toString();
    }

    private ClientSettings() {
    }
}
