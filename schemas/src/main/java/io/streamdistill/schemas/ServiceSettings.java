package io.streamdistill.schemas;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * How every StreamDistill service reads its settings: defaults, then a properties file, then
 * environment variables {@code <PREFIX><KEY>} (upper case, dots as underscores), then
 * {@code --key=value} flags, each overriding the one before. Validation stays with each service.
 */
public final class ServiceSettings {

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

    private ServiceSettings() {
    }
}
