package io.streamdistill.teacher.service;

import io.streamdistill.schemas.ServiceConfig;
import io.streamdistill.schemas.Topics;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.sampling.SamplingPolicy;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The teacher service's settings, merged from (lowest first) defaults, a properties file,
 * environment variables {@code STREAMDISTILL_TEACHER_<KEY>} (upper case, dots as underscores) and
 * {@code --key=value} flags. Validated as a whole at start-up; an error names the key and value.
 * Keys starting with {@code kafka.} go to the Kafka clients without the prefix (security settings,
 * tuning); {@code schema.registry.*} and {@code basic.auth.*} go to the registry client.
 */
public final class TeacherConfig extends ServiceConfig {
    public static final String ENV_PREFIX = "STREAMDISTILL_TEACHER_";

    /** Input encodings: AUTO tells Avro (magic byte 0), JSON (starts with '{') and plain text apart. */
    public enum InputFormat { AUTO, AVRO, JSON, TEXT }

    /** What to do with a text over {@code text.max.chars}. */
    public enum Oversize { TRUNCATE, DEAD_LETTER }

    private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

    static {
        DEFAULTS.put("bootstrap.servers", "");
        DEFAULTS.put("schema.registry.url", "");
        DEFAULTS.put("input.topic", Topics.TEXT);
        DEFAULTS.put("output.topic", Topics.SOFT_TARGETS);
        DEFAULTS.put("dead.letter.topic", Topics.DEAD_LETTERS);
        DEFAULTS.put("group.id", "streamdistill-teacher");
        DEFAULTS.put("transactional.id", "streamdistill-teacher-0");
        DEFAULTS.put("input.format", "AUTO");
        DEFAULTS.put("text.max.chars", "100000");
        DEFAULTS.put("text.oversize", "TRUNCATE");
        DEFAULTS.put("batch.max.size", "32");
        DEFAULTS.put("batch.max.tokens", "8192");
        DEFAULTS.put("poll.max.records", "256");
        DEFAULTS.put("poll.timeout.ms", "200");
        DEFAULTS.put("teacher", "all-MiniLM-L6-v2");
        DEFAULTS.put("teacher.max.tokens", "0");
        DEFAULTS.put("teacher.threads", "1");
        DEFAULTS.put("teacher.device", "CPU");
        DEFAULTS.put("teacher.cuda.device", "0");
        // Polls aborted in a row because the teacher failed on every text of a batch, each alone too, before
        // such a batch is dead-lettered instead (a text that crashes the teacher must not stall its partition).
        DEFAULTS.put("teacher.failure.retries", "3");
        // Classification: also publish the pooled embedding behind the logits, for the trainer's feature distillation.
        DEFAULTS.put("output.pooled.embedding", "false");
        DEFAULTS.put("http.port", "8080");
        // Loopback unless the deployment says otherwise (its probes and scrapers come from outside: 0.0.0.0).
        DEFAULTS.put("http.bind", "127.0.0.1");
        DEFAULTS.put("service.name", "teacher-service");
        // Adaptive sampling (off by default): run the teacher only where the newest student needs it.
        DEFAULTS.put("sampling.enabled", "false");
        DEFAULTS.put("sampling.student", "");
        DEFAULTS.put("sampling.checkpoints.topic", Topics.CHECKPOINTS);
        DEFAULTS.put("sampling.student.tokenizer", "all-MiniLM-L6-v2");
        SamplingPolicy.Settings sampling = SamplingPolicy.Settings.defaults();
        DEFAULTS.put("sampling.exploration", String.valueOf(sampling.exploration()));
        DEFAULTS.put("sampling.uncertain.share", String.valueOf(sampling.uncertainShare()));
        DEFAULTS.put("sampling.uncertain.window", String.valueOf(sampling.uncertainWindow()));
        DEFAULTS.put("sampling.uncertain.factor", String.valueOf(sampling.uncertainFactor()));
        DEFAULTS.put("sampling.min.confidence", String.valueOf(sampling.minConfidence()));
        DEFAULTS.put("sampling.margin", String.valueOf(sampling.margin()));
        DEFAULTS.put("sampling.novelty", String.valueOf(sampling.novelty()));
        DEFAULTS.put("sampling.drift.drop", String.valueOf(sampling.driftDrop()));
        DEFAULTS.put("sampling.drift.rate", String.valueOf(sampling.driftRate()));
        DEFAULTS.put("sampling.memory", String.valueOf(sampling.memory()));
        DEFAULTS.put("sampling.smoothing", String.valueOf(sampling.smoothing()));
        DEFAULTS.put("sampling.seed", String.valueOf(sampling.seed()));
        DEFAULTS.put("sampling.skips.topic", "");
        DEFAULTS.put("sampling.version.change", String.valueOf(sampling.versionChange()));
    }

    private TeacherConfig(Map<String, String> values) {
        super(values, DEFAULTS.keySet());
        validate();
    }

    /** Merges the sources; {@code env} is usually {@code System.getenv()}. */
    public static TeacherConfig load(Path file, Map<String, String> env, Map<String, String> flags) {
        return new TeacherConfig(ServiceConfig.merge(DEFAULTS, file, env, ENV_PREFIX, flags));
    }

    public static TeacherConfig of(Map<String, String> settings) {
        return load(null, Map.of(), settings);
    }

    private void validate() {
        enumValue("input.format", InputFormat.class);
        enumValue("text.oversize", Oversize.class);
        enumValue("teacher.device", Teacher.Device.class);
        if (samplingEnabled()) {
            require(!string("sampling.student").isBlank(), "sampling.student",
                    "is required when sampling.enabled=true (the student whose checkpoints decide)");
            samplingSettings();
        }
        // One subject per topic (<topic>-value) holds one record type: the three topics must differ.
        require(!string("dead.letter.topic").equals(string("output.topic")), "dead.letter.topic",
                "must differ from output.topic (each topic's registry subject holds one record type)");
        require(!string("input.topic").equals(string("output.topic")) && !string("input.topic").equals(string("dead.letter.topic")),
                "input.topic", "must differ from output.topic and dead.letter.topic");
        require(integer("text.max.chars") >= 1, "text.max.chars", "must be >= 1");
        require(integer("batch.max.size") >= 1, "batch.max.size", "must be >= 1");
        require(integer("batch.max.tokens") >= 2, "batch.max.tokens", "must be >= 2");
        require(integer("poll.max.records") >= 1, "poll.max.records", "must be >= 1");
        require(integer("poll.timeout.ms") >= 1, "poll.timeout.ms", "must be >= 1");
        require(integer("teacher.max.tokens") == 0 || integer("teacher.max.tokens") >= 2, "teacher.max.tokens",
                "must be 0 (the teacher's own limit) or >= 2");
        require(integer("teacher.threads") >= 1, "teacher.threads", "must be >= 1");
        require(integer("teacher.failure.retries") >= 0, "teacher.failure.retries",
                "must be >= 0 (0: dead-letter at once a batch the teacher fails on whole)");
        require(integer("http.port") >= -1 && integer("http.port") <= 65535, "http.port",
                "must be -1 (off), 0 (any free port) or a port number");
        require(!string("transactional.id").isBlank(), "transactional.id", "must not be empty");
    }

    public boolean samplingEnabled() {
        return bool("sampling.enabled");
    }

    /** The sampling policy's settings (validated: errors name the key and value). */
    public SamplingPolicy.Settings samplingSettings() {
        return new SamplingPolicy.Settings(number("sampling.exploration"), number("sampling.uncertain.share"),
                integer("sampling.uncertain.window"), number("sampling.uncertain.factor"), number("sampling.min.confidence"),
                number("sampling.margin"),
                number("sampling.novelty"), number("sampling.drift.drop"), number("sampling.drift.rate"), integer("sampling.memory"),
                number("sampling.smoothing"), longValue("sampling.seed"), bool("sampling.version.change"));
    }

    public InputFormat inputFormat() {
        return enumValue("input.format", InputFormat.class);
    }

    public Oversize oversize() {
        return enumValue("text.oversize", Oversize.class);
    }
}
