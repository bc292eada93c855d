package io.streamdistill.trainer;

import io.streamdistill.schemas.ClientSettings;
import io.streamdistill.schemas.ServiceConfig;
import io.streamdistill.schemas.Topics;
import io.streamdistill.student.model.Activation;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.train.TrainingConfig;
import java.net.URI;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The trainer job's settings (string keys, as flags or a properties file give them), validated as
 * a whole when built: an error names the key and the value. Typed access, client settings and the
 * unknown-key check are {@link ServiceConfig}'s; serializable so operators carry it.
 * Keys {@code training.<name>} set {@link TrainingConfig} fields (temperature, alpha, learningRate,
 * beta1, beta2, epsilon, warmupSteps, clipNorm, tokenDropout, embeddingLoss).
 */
public final class TrainerConfig extends ServiceConfig {
    private static final long serialVersionUID = 1L;

    static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

    static {
        DEFAULTS.put("bootstrap.servers", "");
        DEFAULTS.put("schema.registry.url", "");
        DEFAULTS.put("input.topic", Topics.SOFT_TARGETS);
        DEFAULTS.put("output.topic", Topics.CHECKPOINTS);
        // Soft targets the trainer cannot read go here (exactly-once with its offsets); blank: counted and logged only.
        DEFAULTS.put("dead.letter.topic", Topics.DEAD_LETTERS);
        DEFAULTS.put("group.id", "streamdistill-trainer");
        DEFAULTS.put("student.name", "student");
        DEFAULTS.put("student.task", "CLASSIFICATION");
        // bag (token embeddings, mean-pooled: docs/student-trainer.md) or transformer (student.transformer.*).
        DEFAULTS.put("student.arch", "bag");
        DEFAULTS.put("student.transformer.layers", "2");
        DEFAULTS.put("student.transformer.width", "128");
        DEFAULTS.put("student.transformer.heads", "4");
        DEFAULTS.put("student.transformer.ffn", "512");
        DEFAULTS.put("student.transformer.pooling", "mean");
        // student.init=teacher:FILE (a BERT-style ONNX encoder): which of its blocks the student takes; blank: every other.
        DEFAULTS.put("student.init.blocks", "");
        DEFAULTS.put("student.classes", "");
        DEFAULTS.put("student.output.dim", "384");
        DEFAULTS.put("student.embedding.dim", "64");
        DEFAULTS.put("student.bigram.buckets", "0");
        DEFAULTS.put("student.hidden.dim", "0");
        DEFAULTS.put("student.activation", "RELU");
        DEFAULTS.put("student.seed", "42");
        // random, or static:FILE (a table from `streamdistill distill-static`; the demo and train --teacher build it).
        DEFAULTS.put("student.init", "random");
        DEFAULTS.put("student.init.head", "");
        // auto: basis for classification, fitted for embedding students (measured, docs/benchmarks.md).
        DEFAULTS.put("student.init.map", "auto");
        // Feature distillation (training.featureBeta > 0): the width of the teacher's pooled embedding the records carry.
        DEFAULTS.put("student.feature.dim", "384");
        DEFAULTS.put("student.tokenizer", "all-MiniLM-L6-v2");
        DEFAULTS.put("student.max.tokens", "128");
        DEFAULTS.put("batch.size", "32");
        DEFAULTS.put("holdout.percent", "5");
        DEFAULTS.put("holdout.window", "2000");
        DEFAULTS.put("export.every.records", "5000");
        DEFAULTS.put("export.every.seconds", "60");
        DEFAULTS.put("gate.min.agreement", "0.0");
        DEFAULTS.put("gate.max.regression", "0.02");
        DEFAULTS.put("artifact.dir", "file://" + System.getProperty("user.dir") + "/streamdistill-data/artifacts");
        DEFAULTS.put("starting.offsets", "committed");
        DEFAULTS.put("bounded.end", "none");
        DEFAULTS.put("checkpoint.interval.ms", "10000");
        DEFAULTS.put("featurize.parallelism", "1");
        // Training subtasks; above 1 they train one student by model averaging through sync.topic (docs/student-trainer.md).
        DEFAULTS.put("train.parallelism", "1");
        // Where merged sync rounds are announced; blank: <output.topic>.sync.
        DEFAULTS.put("sync.topic", "");
        // Bits per value of the embedding rows a replica sends each round: 8 (a scale per row) or 32 (docs/benchmarks.md).
        DEFAULTS.put("sync.delta.bits", "8");
        DEFAULTS.put("transactional.id.prefix", "");
        DEFAULTS.put("restore.from", "latest");
        // Off: measured, weighting adaptively sampled records by 1/p cost agreement (docs/benchmarks.md).
        DEFAULTS.put("importance.weights", "false");
    }

    private TrainerConfig(Map<String, String> values) {
        super(values, DEFAULTS.keySet(), "training.");
        validate();
    }

    /** Defaults overridden by {@code settings}; unknown keys are refused. */
    public static TrainerConfig of(Map<String, String> settings) {
        Map<String, String> merged = new LinkedHashMap<>(DEFAULTS);
        merged.putAll(settings);
        return new TrainerConfig(merged);
    }

    /**
     * Settings for a student built outside a job ({@link #newLearner}, as {@code distill-general} does): the job's
     * Kafka and registry addresses are not asked for, and no client is ever made from these.
     */
    public static TrainerConfig forStudent(Map<String, String> settings) {
        Map<String, String> s = new LinkedHashMap<>(settings);
        s.putIfAbsent("bootstrap.servers", "not-used:9092");
        s.putIfAbsent("schema.registry.url", "http://not-used");
        return of(s);
    }

    private void validate() {
        studentConfig(1000);
        trainingConfig();
        require(integer("batch.size") >= 1 && integer("batch.size") <= 4096, "batch.size", "must be in 1..4096");
        require(integer("holdout.percent") >= 0 && integer("holdout.percent") <= 50, "holdout.percent", "must be in 0..50");
        require(integer("holdout.window") >= 10, "holdout.window", "must be >= 10");
        require(longValue("export.every.records") >= 1, "export.every.records", "must be >= 1");
        require(longValue("export.every.seconds") >= 1, "export.every.seconds", "must be >= 1");
        require(number("gate.min.agreement") >= 0 && number("gate.min.agreement") <= 1, "gate.min.agreement", "must be in [0, 1]");
        require(number("gate.max.regression") >= 0 && number("gate.max.regression") <= 1, "gate.max.regression",
                "must be in [0, 1]");
        require(integer("student.max.tokens") >= 2, "student.max.tokens", "must be >= 2");
        require(longValue("checkpoint.interval.ms") >= 100, "checkpoint.interval.ms", "must be >= 100");
        require(integer("featurize.parallelism") >= 1, "featurize.parallelism", "must be >= 1");
        require(integer("train.parallelism") >= 1 && integer("train.parallelism") <= 64, "train.parallelism", "must be in 1..64");
        require(integer("sync.delta.bits") == 8 || integer("sync.delta.bits") == 32, "sync.delta.bits", "must be 8 or 32");
        require(integer("train.parallelism") == 1 || string("bounded.end").trim().equalsIgnoreCase("none"), "train.parallelism",
                "above 1 needs an unbounded job (bounded.end=none): the sync input it reads never ends");
        try {
            URI uri = URI.create(string("artifact.dir"));
            require(uri.getScheme() != null, "artifact.dir", "must be a URI with a scheme, e.g. file:///data/artifacts or s3://bucket/path");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("artifact.dir '" + string("artifact.dir") + "' is not a URI: " + e.getMessage(), e);
        }
        Offsets.parseStart(string("starting.offsets"), string("input.topic"));
        Offsets.parseEnd(string("bounded.end"), string("input.topic"));
        require(!string("dead.letter.topic").equals(string("input.topic")) && !string("dead.letter.topic").equals(string("output.topic")),
                "dead.letter.topic", "must differ from input.topic and output.topic");
        require(!string("restore.from").isBlank(), "restore.from", "must be 'latest', 'none' or a checkpoint/savepoint path");
        bool("importance.weights");
        StudentInit.of(this);
    }

    /**
     * The new student these settings describe, as the job starts it (architecture, initialisation, head),
     * for a tokenizer of {@code vocabSize} ids: what {@code streamdistill distill-general} trains outside a job.
     */
    public io.streamdistill.student.train.Learner newLearner(int vocabSize) {
        return StudentInit.of(this).create(studentConfig(vocabSize), trainingConfig());
    }

    /** The sync topic: {@code sync.topic}, or {@code <output.topic>.sync}. */
    public String syncTopic() {
        return string("sync.topic").isBlank() ? string("output.topic") + ".sync" : string("sync.topic");
    }

    public Task task() {
        try {
            return Task.valueOf(string("student.task").trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("student.task must be CLASSIFICATION or EMBEDDING, got '" + string("student.task") + "'");
        }
    }

    /** The student architecture, for a tokenizer with {@code vocabSize} ids. */
    public StudentConfig studentConfig(int vocabSize) {
        Task task = task();
        List<String> classes = Arrays.stream(string("student.classes").split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList();
        if (task == Task.CLASSIFICATION && classes.size() < 2) {
            throw new IllegalArgumentException("student.classes must name the teacher's classes in logit order (at least 2,"
                    + " comma-separated) for a CLASSIFICATION student, got '" + string("student.classes") + "'");
        }
        Activation activation;
        try {
            activation = Activation.valueOf(string("student.activation").trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("student.activation must be one of " + Arrays.toString(Activation.values())
                    + ", got '" + string("student.activation") + "'");
        }
        return StudentConfig.builder().task(task).vocabSize(vocabSize)
                .embeddingDim(integer("student.embedding.dim")).bigramBuckets(integer("student.bigram.buckets"))
                .hiddenDim(integer("student.hidden.dim")).activation(activation)
                .outputDim(integer("student.output.dim")).classNames(classes).seed(longValue("student.seed"))
                .featureDim(task == Task.CLASSIFICATION && trainingConfig().featureBeta() > 0 ? integer("student.feature.dim") : 0)
                .build();
    }

    public TrainingConfig trainingConfig() {
        Map<String, String> t = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith("training.")) {
                t.put(k.substring("training.".length()), v);
            }
        });
        TrainingConfig parsed = TrainingConfig.fromMap(t);
        for (String k : t.keySet()) {
            if (!parsed.toMap().containsKey(k)) {
                throw new IllegalArgumentException("unknown setting 'training." + k + "'; known: training." + parsed.toMap().keySet());
            }
        }
        return parsed;
    }

    /** Every setting in a canonical order, for the config hash. */
    public Map<String, String> canonical() {
        return new TreeMap<>(values);
    }

    /**
     * The settings that shape the student (what the config hash covers and checkpoint records carry):
     * everything but addresses, client pass-through settings, secrets and where files go.
     */
    /** A setting's default (null when it has none): what a checkpoint without the setting was trained with. */
    public static String defaultValue(String key) {
        return DEFAULTS.get(key);
    }

    public Map<String, String> shapingSettings() {
        Map<String, String> out = new TreeMap<>();
        values.forEach((k, v) -> {
            boolean infrastructure = k.equals("bootstrap.servers") || ClientSettings.isPassThrough(k) || ClientSettings.isSecret(k)
                    || k.equals("artifact.dir") || k.equals("transactional.id.prefix") || k.equals("sync.topic");
            if (!infrastructure) {
                out.put(k, v);
            }
        });
        return out;
    }
}
