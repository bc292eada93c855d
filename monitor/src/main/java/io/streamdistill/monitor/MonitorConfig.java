package io.streamdistill.monitor;

import io.streamdistill.schemas.ServiceConfig;
import io.streamdistill.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The monitor's settings, merged from (lowest first) defaults, a properties file, environment
 * variables {@code STREAMDISTILL_MONITOR_<KEY>} and {@code --key=value} flags; validated at start-up
 * with errors naming the key and value. {@code kafka.*}, {@code schema.registry.*} and
 * {@code basic.auth.*} pass through to the clients.
 */
public final class MonitorConfig extends ServiceConfig {
    public static final String ENV_PREFIX = "STREAMDISTILL_MONITOR_";
    private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

    static {
        DEFAULTS.put("bootstrap.servers", "");
        DEFAULTS.put("schema.registry.url", "");
        DEFAULTS.put("application.id", "streamdistill-monitor");
        DEFAULTS.put("soft.targets.topic", Topics.SOFT_TARGETS);
        DEFAULTS.put("dead.letters.topic", Topics.DEAD_LETTERS);
        DEFAULTS.put("checkpoints.topic", Topics.CHECKPOINTS);
        DEFAULTS.put("metrics.topic", Topics.METRICS);
        DEFAULTS.put("window.seconds", "10");
        DEFAULTS.put("window.grace.seconds", "5");
        DEFAULTS.put("retention.minutes", "120");
        DEFAULTS.put("reference.records", "500");
        DEFAULTS.put("holdout.percent", "5");
        DEFAULTS.put("student.tokenizer", "all-MiniLM-L6-v2");
        DEFAULTS.put("student.max.tokens", "128");
        DEFAULTS.put("lag.groups", "streamdistill-teacher,streamdistill-trainer");
        DEFAULTS.put("state.dir", System.getProperty("java.io.tmpdir") + "/streamdistill-monitor");
        DEFAULTS.put("commit.interval.ms", "1000");
        DEFAULTS.put("http.port", "8081");
        // Loopback unless the deployment says otherwise (0.0.0.0 in a container).
        DEFAULTS.put("http.bind", "127.0.0.1");
    }

    private MonitorConfig(Map<String, String> values) {
        super(values, DEFAULTS.keySet());
        validate();
    }

    public static MonitorConfig load(Path file, Map<String, String> env, Map<String, String> flags) {
        return new MonitorConfig(ServiceConfig.merge(DEFAULTS, file, env, ENV_PREFIX, flags));
    }

    public static MonitorConfig of(Map<String, String> settings) {
        return load(null, Map.of(), settings);
    }

    private void validate() {
        require(integer("window.seconds") >= 1, "window.seconds", "must be >= 1");
        require(integer("retention.minutes") >= 1 && integer("retention.minutes") * 60L >= integer("window.seconds"),
                "retention.minutes", "must be >= 1 and cover at least one window");
        require(integer("window.grace.seconds") >= 0, "window.grace.seconds", "must be >= 0");
        require(integer("reference.records") >= 10, "reference.records", "must be >= 10");
        require(integer("holdout.percent") >= 0 && integer("holdout.percent") <= 50, "holdout.percent",
                "must be in 0..50 (the trainer's holdout.percent)");
        require(integer("student.max.tokens") >= 2, "student.max.tokens", "must be >= 2");
        require(integer("http.port") >= -1 && integer("http.port") <= 65535, "http.port", "must be -1 (off), 0 (any) or a port");
        require(integer("commit.interval.ms") >= 100, "commit.interval.ms", "must be >= 100");
    }

    public Duration window() {
        return Duration.ofSeconds(integer("window.seconds"));
    }

    public Duration grace() {
        return Duration.ofSeconds(integer("window.grace.seconds"));
    }

    public Duration retention() {
        return Duration.ofMinutes(integer("retention.minutes"));
    }

    public List<String> lagGroups() {
        List<String> out = new ArrayList<>();
        for (String g : string("lag.groups").split(",")) {
            if (!g.isBlank()) {
                out.add(g.trim());
            }
        }
        return out;
    }
}
