package io.streamdistill.schemas;

import io.streamdistill.schemas.registry.RegistryConfig;
import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * How every StreamDistill service reads its settings: defaults, then a properties file, then
 * environment variables {@code <PREFIX><KEY>} (upper case, dots as underscores), then
 * {@code --key=value} flags, each overriding the one before ({@link #merge}); and the typed,
 * validated access every service's config shares (errors name the key and the value). Each service
 * adds its own keys and rules. Serializable, so a Flink operator can carry its job's config.
 */
public abstract class ServiceConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A service's command line: an optional {@code --config FILE} and {@code --key=value} flags. */
    public record CommandLine(Path configFile, Map<String, String> flags, boolean help) {
        /** @throws IllegalArgumentException naming the argument that is neither */
        public static CommandLine parse(String[] args) {
            Path file = null;
            Map<String, String> flags = new LinkedHashMap<>();
            boolean help = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--help") || a.equals("-h")) {
                    help = true;
                } else if (a.equals("--config")) {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("--config needs a file");
                    }
                    file = Path.of(args[++i]);
                } else if (a.startsWith("--") && a.contains("=")) {
                    flags.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
                } else {
                    throw new IllegalArgumentException("unexpected argument '" + a + "'");
                }
            }
            return new CommandLine(file, flags, help);
        }
    }

    /** The merged settings; {@code env} is usually {@code System.getenv()}. */
    public static Map<String, String> merge(Map<String, String> defaults, Path file, Map<String, String> env, String envPrefix,
                                            Map<String, String> flags) {
        Map<String, String> merged = new LinkedHashMap<>(defaults);
        if (file != null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file)) {
                p.load(r);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read the config file " + file + ": " + e.getMessage(), e);
            }
            p.forEach((k, v) -> merged.put(k.toString().trim(), v.toString().trim()));
        }
        env.forEach((k, v) -> {
            if (k.startsWith(envPrefix)) {
                merged.put(k.substring(envPrefix.length()).toLowerCase(Locale.ROOT).replace('_', '.'), v);
            }
        });
        merged.putAll(flags);
        return merged;
    }

    protected final Map<String, String> values;

    /**
     * Refuses unknown keys (other than the client pass-through ones and keys under
     * {@code knownPrefixes}, which the subclass checks itself) and requires the Kafka and registry
     * addresses; the subclass then checks its own rules.
     */
    protected ServiceConfig(Map<String, String> values, Set<String> known, String... knownPrefixes) {
        this.values = values;
        for (String key : values.keySet()) {
            if (!known.contains(key) && !ClientSettings.isPassThrough(key) && Arrays.stream(knownPrefixes).noneMatch(key::startsWith)) {
                StringBuilder prefixes = new StringBuilder();
                for (String prefix : knownPrefixes) {
                    prefixes.append(prefix).append("*, ");
                }
                throw new IllegalArgumentException("unknown setting '" + key + "'; known: " + known
                        + " and " + prefixes + "kafka.*, schema.registry.*, basic.auth.*");
            }
        }
        require(!string("bootstrap.servers").isBlank(), "bootstrap.servers", "is required (host:port of the Kafka brokers)");
        require(!string("schema.registry.url").isBlank(), "schema.registry.url", "is required (the records are Avro)");
        RegistryConfig.fromMap(registryConfig());
    }

    /** Throws naming the key, the rule and the value when {@code ok} is false. */
    protected final void require(boolean ok, String key, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(key + " " + rule + ", got '" + string(key) + "'");
        }
    }

    public String string(String key) {
        return values.getOrDefault(key, "");
    }

    public int integer(String key) {
        String v = string(key).trim();
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, got '" + v + "'");
        }
    }

    public long longValue(String key) {
        String v = string(key).trim();
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, got '" + v + "'");
        }
    }

    public double number(String key) {
        String v = string(key).trim();
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a number, got '" + v + "'");
        }
    }

    public boolean bool(String key) {
        String v = string(key).trim().toLowerCase(Locale.ROOT);
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException(key + " must be true or false, got '" + string(key) + "'");
        }
        return v.equals("true");
    }

    public <E extends Enum<E>> E enumValue(String key, Class<E> type) {
        String v = string(key).trim().toUpperCase(Locale.ROOT);
        try {
            return Enum.valueOf(type, v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + " must be one of " + Arrays.toString(type.getEnumConstants())
                    + ", got '" + string(key) + "'");
        }
    }

    /** Settings for the Kafka clients: bootstrap servers plus every kafka.* key without its prefix. */
    public Map<String, Object> kafkaConfig() {
        Map<String, Object> m = new HashMap<>(ClientSettings.kafka(values));
        m.put("bootstrap.servers", string("bootstrap.servers"));
        return m;
    }

    /** Settings for the schema registry client (Confluent key names). */
    public Map<String, Object> registryConfig() {
        return ClientSettings.registry(values);
    }

    /** bootstrap.servers, schema.registry.url and every pass-through key, as given (for clients built elsewhere). */
    public Map<String, String> clientSettings() {
        Map<String, String> m = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            if (ClientSettings.isPassThrough(k) || k.equals("bootstrap.servers") || k.equals("schema.registry.url")) {
                m.put(k, v);
            }
        });
        return m;
    }

    /** Every setting, secrets masked: for the start-up log line. */
    @Override
    public String toString() {
        return ClientSettings.masked(values);
    }
}
