package io.streamdistill.trainer.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.streamdistill.artifacts.ObjectStoreSettings;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.ClientSettings;
import io.streamdistill.schemas.TopicRange;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.trainer.CheckpointRecords;
import io.streamdistill.trainer.ObjectStoreFileSystem;
import io.streamdistill.trainer.OutRecord;
import io.streamdistill.trainer.KafkaTopics;
import io.streamdistill.trainer.StudentTrainerJob;
import io.streamdistill.trainer.TrainerConfig;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * A bounded re-training over a slice of a soft-target topic with other settings: the experiment.
 * It runs the trainer job on a local MiniCluster over exactly the resolved offsets, never writes to
 * the production checkpoint topic, and leaves under {@code <out>/<name>}: {@code checkpoints/} (the
 * ONNX files), {@code metrics.jsonl} (one line per exported version), {@code experiment.json}
 * (range, resolved offsets, config, seed, code version, result).
 *
 * <p>Deterministic by construction: no Flink checkpoints and no time-based exports (both would cut
 * batches at wall-clock moments), featurize parallelism 1. On one partition the same range, settings
 * and seed give a bit-identical final artifact; on several, the interleaving of partitions varies.
 */
public final class Replay {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Replay.class);

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * @param base       where to read: bootstrap.servers, schema.registry.url, pass-through client settings
     * @param overrides  any trainer setting ({@code training.temperature}, {@code student.embedding.dim}, ...)
     * @param topic      the soft-target topic to replay
     * @param checkpointsTopic production checkpoints, read (never written) for the class names
     * @param experimentTopic  null, or a topic of the experiment's own to publish its checkpoint records to
     * @param flinkCluster     null for a local MiniCluster, or a JobManager's REST address host:port
     * @param jobJars          for a remote cluster: the job jar(s) holding the trainer's classes
     */
    public record Spec(String name, Map<String, String> base, Map<String, String> overrides, String topic, String from, String to,
                       Path out, String checkpointsTopic, String experimentTopic, String flinkCluster, List<Path> jobJars) {
        /** A replay on a local MiniCluster. */
        public Spec(String name, Map<String, String> base, Map<String, String> overrides, String topic, String from, String to,
                    Path out, String checkpointsTopic, String experimentTopic) {
            this(name, base, overrides, topic, from, to, out, checkpointsTopic, experimentTopic, null, List.of());
        }
    }

    /** The experiment's result, as written to experiment.json. */
    public record Result(Path dir, TopicRange range, List<StudentCheckpoint> versions, double seconds) {
        public StudentCheckpoint last() {
            return versions.isEmpty() ? null : versions.get(versions.size() - 1);
        }
    }

    public static Result run(Spec spec, Consumer<String> progress) throws Exception {
        if (!spec.name().matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("--name must be letters, digits, '.', '_' or '-', got '" + spec.name() + "'");
        }
        if (spec.experimentTopic() != null && spec.experimentTopic().equals(spec.checkpointsTopic())) {
            throw new IllegalArgumentException("an experiment never publishes to the production checkpoint topic '"
                    + spec.checkpointsTopic() + "': choose another topic");
        }
        Path dir = spec.out().resolve(spec.name());
        if (Files.exists(dir.resolve("experiment.json"))) {
            throw new IllegalArgumentException("experiment '" + spec.name() + "' already exists in " + dir.toAbsolutePath()
                    + ": choose another --name or remove it");
        }
        String bootstrap = spec.base().get("bootstrap.servers");
        TopicRange range;
        try (Admin admin = Admin.create(adminConfig(spec.base()))) {
            range = TopicRange.resolve(admin, spec.topic(), spec.from(), spec.to());
        }
        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.fromMap(ClientSettings.registry(spec.base())));
        Map<String, String> settings = settings(spec, range, dir, registry);
        TrainerConfig config = TrainerConfig.of(settings);
        Files.createDirectories(dir);
        writeExperiment(dir, spec, range, config, null, "running");
        progress.accept(String.format("replay %s: %d offsets of %s %s, student.arch=%s, student.init=%s", spec.name(), range.records(),
                spec.topic(), range.offsets().keySet(), config.string("student.arch"), config.string("student.init")));

        if (spec.flinkCluster() == null && (ObjectStoreFileSystem.needed(Map.of("artifact.dir", config.string("artifact.dir")))
                || !ObjectStoreSettings.only(spec.base()).isEmpty())) {
            ObjectStoreFileSystem.initialize(spec.base()); // artifacts on an object store, written from this JVM's MiniCluster
        }
        StreamExecutionEnvironment env = environment(spec);
        DataStream<OutRecord> checkpoints = StudentTrainerJob.buildTraining(env, config, s -> s);
        if (spec.experimentTopic() != null) {
            KafkaTopics.ensure(StudentTrainerJob.adminSettings(config), spec.experimentTopic());
            StudentTrainerJob.sinkToKafka(checkpoints, config, DeliveryGuarantee.AT_LEAST_ONCE);
        }
        List<StudentCheckpoint> versions = new ArrayList<>();
        long t0 = System.nanoTime();
        try (CloseableIterator<OutRecord> it = checkpoints.executeAndCollect("streamdistill-replay " + spec.name());
             BufferedWriter metrics = Files.newBufferedWriter(dir.resolve("metrics.jsonl"), StandardCharsets.UTF_8)) {
            while (it.hasNext()) {
                StudentCheckpoint c = CheckpointRecords.decode(it.next());
                versions.add(c);
                double elapsed = (System.nanoTime() - t0) / 1e9;
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("version", c.getVersion());
                line.put("step", c.getStep());
                line.put("records_seen", c.getRecordsSeen());
                line.put("elapsed_seconds", Math.round(elapsed * 1000) / 1000.0);
                line.putAll(c.getMetrics());
                metrics.write(new ObjectMapper().writeValueAsString(line));
                metrics.newLine();
                metrics.flush();
                Double quality = c.getMetrics().getOrDefault("holdout_agreement", Double.NaN);
                if (versions.size() == 1) {
                    progress.accept("replay " + spec.name() + ": student " + c.getArchitecture());
                }
                progress.accept(String.format("replay %s: version %d after %d records (%.0f s), holdout %s %.4f", spec.name(),
                        c.getVersion(), c.getRecordsSeen(), elapsed, config.task().name().equals("EMBEDDING") ? "cosine" : "agreement",
                        quality));
            }
        }
        Result result = new Result(dir, range, versions, (System.nanoTime() - t0) / 1e9);
        writeExperiment(dir, spec, range, config, result, "finished");
        return result;
    }

    /** A local MiniCluster, or the remote cluster the spec names (its TaskManagers write the artifacts). */
    private static StreamExecutionEnvironment environment(Spec spec) {
        return io.streamdistill.trainer.ClusterJob.environment(spec.flinkCluster(), new Configuration(), spec.jobJars());
    }

    /** Settings a fine-tuned version records that belong to finetune, not to the trainer. */
    static final String FINETUNE_PREFIX = "finetune.";

    /**
     * What a replay takes over from the production student's settings, given what it is asked to
     * change: all of them, except what a fine-tuned version records of finetune itself, the start and
     * shape of another architecture than the one asked for, a warm start that no longer fits another {@code student.embedding.dim},
     * and {@code train.parallelism} (a replay is a bounded job, which trains in one subtask; asked
     * for more, the trainer's configuration refuses it with a message).
     */
    public static Map<String, String> inherited(String name, Map<String, String> production, Map<String, String> overrides) {
        Map<String, String> inherited = new LinkedHashMap<>(production);
        // A fine-tuned version records how finetune shaped it (finetune.epochs, ...) beside its parent's trainer
        // settings; those are not the trainer's, and a replay after a fine-tune was refused for them.
        inherited.keySet().removeIf(k -> k.startsWith(FINETUNE_PREFIX));
        if (inherited.containsKey("student.init") && !overrides.containsKey("student.init")
                && overrides.containsKey("student.embedding.dim")
                && !overrides.get("student.embedding.dim").equals(inherited.get("student.embedding.dim"))) {
            LOG.info("replay '{}': student.embedding.dim={} does not fit the production student's warm start ({}); it starts"
                    + " from random", name, overrides.get("student.embedding.dim"), inherited.get("student.init"));
            inherited.put("student.init", "random");
        }
        String arch = overrides.get("student.arch");
        if (arch != null && !arch.equals(inherited.getOrDefault("student.arch", "bag")) && !overrides.containsKey("student.init")) {
            // Another architecture: the production student's start (a static table for a bag, the teacher's blocks for a
            // transformer) and its shape do not carry over; the new one starts as the trainer's defaults say.
            LOG.info("replay '{}': student.arch={} is not the production student's ({}); its student.init and shape are not"
                    + " inherited", name, arch, inherited.getOrDefault("student.arch", "bag"));
            inherited.keySet().removeIf(k -> k.startsWith("student.init") || k.startsWith("student.transformer."));
        }
        String parallelism = inherited.get("train.parallelism");
        if (parallelism != null && !parallelism.trim().equals("1") && !overrides.containsKey("train.parallelism")) {
            LOG.info("replay '{}': the production student trained at train.parallelism={}; a replay trains in one subtask, at"
                    + " the base training.learningRate (not scaled by the square root of {})", name, parallelism, parallelism);
            inherited.put("train.parallelism", "1");
        }
        return inherited;
    }

    private static Map<String, String> settings(Spec spec, TopicRange range, Path dir, SchemaRegistryClient registry) {
        Map<String, String> s = new LinkedHashMap<>(spec.base());
        // What shaped the production student (learning rate, architecture, warm start, ...): a replay differs from
        // it only in what it is asked to change. Replaying with the trainer's defaults instead made an experiment at
        // another temperature also one at another learning rate and initialisation.
        s.putAll(inherited(spec.name(), productionSettings(spec, registry), spec.overrides()));
        s.put("input.topic", spec.topic());
        s.put("group.id", "streamdistill-replay-" + spec.name());
        s.put("student.name", spec.name());
        s.put("artifact.dir", dir.resolve("checkpoints").toAbsolutePath().toUri().toString());
        s.put("restore.from", "none");
        s.put("export.every.records", String.valueOf(Math.max(100, range.records() / 20)));
        s.put("export.every.seconds", String.valueOf(Integer.MAX_VALUE)); // exports by records only: reproducible
        s.put("gate.max.regression", "1"); // every version on the learning curve unless a gate is asked for
        s.putAll(inferStudent(spec, range, registry));
        s.putAll(spec.overrides());
        // Fixed by the replay itself, whatever the overrides say:
        s.put("starting.offsets", range.startSetting());
        s.put("bounded.end", range.endSetting());
        s.put("featurize.parallelism", "1");
        s.put("output.topic", spec.experimentTopic() == null ? "streamdistill.replay." + spec.name() : spec.experimentTopic());
        s.put("transactional.id.prefix", "streamdistill-replay-" + spec.name());
        // A replay writes no production topic: records it cannot read are counted and logged, and stay where they are.
        s.put("dead.letter.topic", "");
        return s;
    }

    /** Task and output size from the first record of the range; class names from the newest production checkpoint that fits. */
    private static Map<String, String> inferStudent(Spec spec, TopicRange range, SchemaRegistryClient registry) {
        Map<String, String> s = new HashMap<>();
        SoftTarget first = firstRecord(spec, range, registry);
        if (first.getEmbedding() != null) {
            s.put("student.task", "EMBEDDING");
            s.put("student.output.dim", String.valueOf(first.getEmbedding().size()));
            return s;
        }
        if (first.getClassLogits() == null) {
            throw new IllegalArgumentException("the first record of the range has neither class logits nor an embedding; "
                    + "language-model soft targets cannot be replayed into a student yet");
        }
        int classes = first.getClassLogits().size();
        s.put("student.task", "CLASSIFICATION");
        List<String> names = classNames(spec, registry, classes);
        s.put("student.classes", String.join(",", names));
        return s;
    }

    private static SoftTarget firstRecord(Spec spec, TopicRange range, SchemaRegistryClient registry) {
        AvroDeserializer<SoftTarget> d = new AvroDeserializer<>(registry, SoftTarget.class);
        try (KafkaConsumer<byte[], byte[]> c = consumer(spec.base())) {
            Map.Entry<Integer, long[]> p = range.offsets().entrySet().stream().filter(e -> e.getValue()[1] > e.getValue()[0])
                    .findFirst().orElseThrow();
            TopicPartition tp = new TopicPartition(spec.topic(), p.getKey());
            c.assign(List.of(tp));
            c.seek(tp, p.getValue()[0]);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    return d.deserialize(spec.topic(), r.value());
                }
            }
        }
        throw new IllegalStateException("could not read the first record of the range within 30 s");
    }

    /** Every readable record of the production checkpoints topic, oldest first (empty when there is none). */
    private static List<StudentCheckpoint> productionCheckpoints(Spec spec, SchemaRegistryClient registry) {
        AvroDeserializer<StudentCheckpoint> d = new AvroDeserializer<>(registry, StudentCheckpoint.class);
        try {
            return io.streamdistill.schemas.TopicSnapshot.read(spec.base(), spec.checkpointsTopic(),
                    r -> d.deserialize(r.topic(), r.value()), Integer.MAX_VALUE, Duration.ofSeconds(20));
        } catch (RuntimeException noCheckpoints) {
            return List.of(); // none readable: callers fall back to defaults
        }
    }

    /** The settings of the newest production checkpoint (empty when there is none, or it predates the field). */
    private static Map<String, String> productionSettings(Spec spec, SchemaRegistryClient registry) {
        List<StudentCheckpoint> all = productionCheckpoints(spec, registry);
        Map<String, String> out = new LinkedHashMap<>();
        if (!all.isEmpty() && all.get(all.size() - 1).getSettings() != null) {
            all.get(all.size() - 1).getSettings().forEach((k, v) -> out.put(k.toString(), v.toString()));
        }
        return out;
    }

    /** The newest production checkpoint with this many classes names them; otherwise class_0, class_1, ... */
    private static List<String> classNames(Spec spec, SchemaRegistryClient registry, int classes) {
        List<String> names = null;
        for (StudentCheckpoint cp : productionCheckpoints(spec, registry)) {
            if (cp.getClassNames() != null && cp.getClassNames().size() == classes) {
                names = cp.getClassNames();
            }
        }
        if (names == null) {
            names = new ArrayList<>();
            for (int i = 0; i < classes; i++) {
                names.add("class_" + i);
            }
        }
        return names;
    }

    private static void writeExperiment(Path dir, Spec spec, TopicRange range, TrainerConfig config, Result result, String status)
            throws IOException {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", spec.name());
        e.put("status", status);
        e.put("written_at", Instant.now().toString());
        e.put("topic", spec.topic());
        e.put("from", spec.from());
        e.put("to", spec.to());
        List<Map<String, Object>> resolved = new ArrayList<>();
        range.offsets().forEach((p, o) -> resolved.add(Map.of("partition", p, "start_offset", o[0], "end_offset", o[1])));
        e.put("resolved_offsets", resolved);
        e.put("offsets_in_range", range.records());
        e.put("seed", config.string("student.seed"));
        e.put("overrides", spec.overrides());
        Map<String, String> shown = new LinkedHashMap<>();
        config.canonical().forEach((k, v) -> shown.put(k, ClientSettings.isSecret(k) ? "[hidden]" : v));
        e.put("config", shown);
        e.put("code_version", BuildInfo.describe());
        if (spec.experimentTopic() != null) {
            e.put("experiment_topic", spec.experimentTopic());
        }
        e.put("flink", spec.flinkCluster() == null ? "local MiniCluster" : spec.flinkCluster());
        if (result != null) {
            e.put("training_seconds", Math.round(result.seconds() * 1000) / 1000.0);
            e.put("versions", result.versions().size());
            StudentCheckpoint last = result.last();
            if (last != null) {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("version", last.getVersion());
                f.put("step", last.getStep());
                f.put("records_seen", last.getRecordsSeen());
                f.put("parameters", last.getParameters());
                f.put("architecture", last.getArchitecture());
                f.put("artifact", Map.of("uri", last.getArtifact().getUri(), "sha256", last.getArtifact().getSha256(),
                        "bytes", last.getArtifact().getBytes()));
                f.put("metrics", last.getMetrics());
                e.put("final", f);
            }
        }
        Path tmp = dir.resolve("experiment.json.tmp");
        JSON.writeValue(tmp.toFile(), e);
        Files.move(tmp, dir.resolve("experiment.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static Map<String, Object> adminConfig(Map<String, String> base) {
        Map<String, Object> c = new HashMap<>(ClientSettings.kafka(base));
        c.put("bootstrap.servers", base.get("bootstrap.servers"));
        return c;
    }

    private static KafkaConsumer<byte[], byte[]> consumer(Map<String, String> base) {
        return io.streamdistill.schemas.TopicSnapshot.consumer(base);
    }

    private Replay() {
    }
}
