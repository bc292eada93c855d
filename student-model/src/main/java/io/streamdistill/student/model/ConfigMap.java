package io.streamdistill.student.model;

import java.util.Map;
import java.util.function.Function;

/**
 * Reads typed settings out of a string map (a properties file, CLI {@code --set key=value}, a
 * saved state), with errors that name the key and the bad value.
 */
public final class ConfigMap {
    private final Map<String, String> values;
    private final String owner;

    public ConfigMap(Map<String, String> values, String owner) {
        this.values = values;
        this.owner = owner;
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public String string(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    public int integer(String key, int fallback) {
        return parse(key, fallback, Integer::parseInt, "a whole number");
    }

    public long longValue(String key, long fallback) {
        return parse(key, fallback, Long::parseLong, "a whole number");
    }

    public float floatValue(String key, float fallback) {
        return parse(key, fallback, Float::parseFloat, "a number");
    }

    public <E extends Enum<E>> E enumValue(String key, Class<E> type, E fallback) {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Enum.valueOf(type, v.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(owner + "." + key + " must be one of "
                    + java.util.Arrays.toString(type.getEnumConstants()) + ", got '" + v + "'", e);
        }
    }

    private <T> T parse(String key, T fallback, Function<String, T> parser, String what) {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return parser.apply(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(owner + "." + key + " must be " + what + ", got '" + v + "'", e);
        }
    }

    /** Fails naming the key and value unless the condition holds. */
    public static void check(boolean ok, String owner, String key, Object value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(owner + "." + key + " " + rule + ", got " + value);
        }
    }
}
