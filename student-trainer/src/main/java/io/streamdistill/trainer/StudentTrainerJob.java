package io.streamdistill.trainer;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The student-trainer Flink job: soft targets → featurize (parallel) → train (stateful: one
 * instance, or {@code train.parallelism} replicas kept in sync through a merger and the sync topic)
 * → exactly-once checkpoint records. {@link #build} wires the topology on any
 * environment, so tests and the demo run it on a local MiniCluster and a cluster runs the job jar:
 * {@code flink run -c io.streamdistill.trainer.StudentTrainerJob student-trainer.jar --key=value ...}.
 */
public final class StudentTrainerJob {
    private static final Logger LOG = LoggerFactory.getLogger(StudentTrainerJob.class);

    /** Operators only a job with train.parallelism > 1 has. */
    private static final java.util.Set<String> PARALLEL_ONLY_UIDS = java.util.Set.of("sync-source", "merge", "sync-sink");

    /** Adds the job to {@code env}. Checkpointing must be on for the exactly-once sink (see {@link #configure}). */
    public static void build(StreamExecutionEnvironment env, TrainerConfig config) {
        build(env, config, features -> features);
    }

    /**
     * Like {@link #build(StreamExecutionEnvironment, TrainerConfig)}, with {@code tap} applied to the
     * featurised stream before training (tests inject failures there).
     */
    public static void build(StreamExecutionEnvironment env, TrainerConfig config,
                             java.util.function.UnaryOperator<DataStream<TargetRecord>> tap) {
        sinkToKafka(buildTraining(env, config, tap), config, DeliveryGuarantee.EXACTLY_ONCE);
    }

    /**
     * Source, featurize and train, without a sink: the stream of checkpoint records (plain Avro,
     * {@link CheckpointRecords#decode}). A replay collects it instead of publishing it.
     */
    public static DataStream<OutRecord> buildTraining(StreamExecutionEnvironment env, TrainerConfig config,
                                                      java.util.function.UnaryOperator<DataStream<TargetRecord>> tap) {
        KafkaSourceBuilder<TargetRead> source = KafkaSource.<TargetRead>builder()
                .setBootstrapServers(config.string("bootstrap.servers"))
                .setTopics(config.string("input.topic"))
                .setGroupId(config.string("group.id"))
                .setStartingOffsets(Offsets.parseStart(config.string("starting.offsets"), config.string("input.topic")))
                .setDeserializer(new SoftTargetSchema(config.registryConfig()))
                .setProperty("isolation.level", "read_committed");
        config.kafkaConfig().forEach((k, v) -> source.setProperty(k, v.toString()));
        OffsetsInitializer end = Offsets.parseEnd(config.string("bounded.end"), config.string("input.topic"));
        if (end != null) {
            source.setBounded(end);
        }
        // Fixed uids: the graph differs between train.parallelism=1 and N, and a savepoint restores across them.
        // One reader per training subtask: Kafka gives each some of the partitions (readers beyond them stay idle).
        int parallelism = config.integer("train.parallelism");
        SingleOutputStreamOperator<TargetRecord> targets = env.fromSource(source.build(), WatermarkStrategy.noWatermarks(), "soft-targets")
                .setParallelism(parallelism).uid("soft-targets")
                .process(new UnreadableTargets(config.string("dead.letter.topic")))
                .name("unreadable-soft-targets").setParallelism(parallelism).uid("unreadable-soft-targets");
        deadLetters(targets.getSideOutput(UnreadableTargets.UNREADABLE), config, parallelism);
        DataStream<TargetRecord> features = targets
                .map(new Featurize(config.string("student.tokenizer"), config.integer("student.max.tokens"),
                        config.integer("holdout.percent")))
                .name("featurize").setParallelism(config.integer("featurize.parallelism")).uid("featurize");
        if (parallelism == 1) {
            return tap.apply(features)
                    .transform("train", TypeInformation.of(OutRecord.class), new TrainOperator(config))
                    .setParallelism(1).uid("train");
        }
        return buildParallel(env, config, tap.apply(features), parallelism);
    }

    /**
     * {@code train.parallelism} > 1: training subtasks that average their moves at each checkpoint
     * through the merger and the sync topic (read read_committed, so a round is seen once its
     * checkpoint has committed). Holdout records go to subtask 0, which publishes.
     */
    private static DataStream<OutRecord> buildParallel(StreamExecutionEnvironment env, TrainerConfig config,
                                                       DataStream<TargetRecord> features, int parallelism) {
        String student = config.string("student.name");
        String run = java.util.UUID.randomUUID().toString();
        KafkaSourceBuilder<SyncPointer> syncSource = KafkaSource.<SyncPointer>builder()
                .setBootstrapServers(config.string("bootstrap.servers"))
                .setTopics(config.syncTopic())
                .setGroupId(config.string("group.id") + "-sync")
                // From a minute before now (not 'latest', which the enumerator may resolve only after a first round was
                // announced); older rounds and other runs' are skipped by run id. A restored job reads on from its offsets.
                .setStartingOffsets(OffsetsInitializer.timestamp(System.currentTimeMillis() - 60_000))
                .setDeserializer(new SyncPointer.Deserializer(student))
                .setProperty("isolation.level", "read_committed");
        config.kafkaConfig().forEach((k, v) -> syncSource.setProperty(k, v.toString()));
        DataStream<SyncPointer> rounds = env.fromSource(syncSource.build(), WatermarkStrategy.noWatermarks(), "sync-rounds")
                .setParallelism(1).uid("sync-source");
        SingleOutputStreamOperator<OutRecord> trained = features
                .partitionCustom(new ToSubtask(), new ShareKey())
                .connect(rounds.broadcast())
                .transform("train", TypeInformation.of(OutRecord.class), new ReplicaOperator(config, run))
                .setParallelism(parallelism).uid("train");
        DataStream<SyncPointer> merged = trained.getSideOutput(ReplicaOperator.DELTAS)
                .transform("merge", TypeInformation.of(SyncPointer.class), new MergeOperator(config, run))
                .setParallelism(1).setMaxParallelism(1).uid("merge");
        merged.sinkTo(kafkaSink(config, "-sync", DeliveryGuarantee.EXACTLY_ONCE, new SyncPointer.Serializer(config.syncTopic())))
                .name("sync-rounds-out").setParallelism(1).uid("sync-sink");
        return trained;
    }

    /**
     * Unreadable soft targets to {@code dead.letter.topic}, in the same exactly-once checkpoints as the source offsets
     * that pass them: committed together or not at all. Blank (a replay): they are counted and logged, and stay in the
     * topic the job reads.
     */
    private static void deadLetters(DataStream<TargetRead> unreadable, TrainerConfig config, int parallelism) {
        String topic = config.string("dead.letter.topic");
        if (topic.isBlank()) {
            return;
        }
        unreadable.sinkTo(kafkaSink(config, "-dead-letters", DeliveryGuarantee.EXACTLY_ONCE, new UnreadableTargets.DeadLetterSerializer(topic,
                        new HashMap<>(config.registryConfig()))))
                .name("dead-letters").setParallelism(parallelism).uid("dead-letter-sink");
    }

    /** A Kafka sink with the trainer's client settings; its transactional ids are the trainer's prefix + {@code suffix}. */
    private static <T> KafkaSink<T> kafkaSink(TrainerConfig config, String suffix, DeliveryGuarantee guarantee,
                                             org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema<T> serializer) {
        Properties producer = new Properties();
        config.kafkaConfig().forEach((k, v) -> producer.put(k, v.toString()));
        // Longer than any checkpoint interval we use, shorter than the broker's 15-minute maximum.
        producer.putIfAbsent("transaction.timeout.ms", "600000");
        return KafkaSink.<T>builder()
                .setBootstrapServers(config.string("bootstrap.servers"))
                .setKafkaProducerConfig(producer)
                .setDeliveryGuarantee(guarantee)
                .setTransactionalIdPrefix(transactionalPrefix(config) + suffix)
                .setRecordSerializer(serializer)
                .build();
    }

    /** Holdout records to subtask 0 (it scores candidates); the rest spread by offset. */
    static final class ShareKey implements org.apache.flink.api.java.functions.KeySelector<TargetRecord, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long getKey(TargetRecord r) {
            return r.holdout ? -1L : r.offset * 31 + r.partition;
        }
    }

    static final class ToSubtask implements org.apache.flink.api.common.functions.Partitioner<Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public int partition(Long key, int partitions) {
            return key < 0 ? 0 : (int) Math.floorMod(key, (long) partitions);
        }
    }

    private static String transactionalPrefix(TrainerConfig config) {
        return config.string("transactional.id.prefix").isBlank()
                ? "streamdistill-trainer-" + config.string("student.name") : config.string("transactional.id.prefix");
    }

    /** Creates the sync topic when {@code train.parallelism} > 1 and it does not exist (one partition: one writer, in order). */
    public static void createSyncTopic(TrainerConfig config) throws Exception {
        if (config.integer("train.parallelism") == 1) {
            return;
        }
        KafkaTopics.ensure(adminSettings(config), config.syncTopic());
    }

    /** Admin client settings for the job's cluster: its bootstrap servers and client security. */
    public static Map<String, Object> adminSettings(TrainerConfig config) {
        Map<String, Object> admin = new HashMap<>();
        config.kafkaConfig().forEach((k, v) -> admin.put(k, v.toString()));
        admin.put("bootstrap.servers", config.string("bootstrap.servers"));
        return admin;
    }

    /**
     * Publishes checkpoint records to {@code output.topic} with the registry framing; exactly-once
     * needs Flink checkpoints (records become visible when one completes).
     */
    public static void sinkToKafka(DataStream<OutRecord> checkpoints, TrainerConfig config, DeliveryGuarantee guarantee) {
        String topic = config.string("output.topic");
        checkpoints.sinkTo(kafkaSink(config, "", guarantee, new CheckpointRecords.KafkaSerializer(topic, new HashMap<>(config.registryConfig()))))
                .name("checkpoints").setParallelism(1).uid("checkpoint-sink");
    }

    /**
     * Flink settings the job needs: exactly-once checkpoints in file-system storage (the state is tens
     * of MB), kept when the job is cancelled so a restarted job resumes from them ({@code restore.from}:
     * {@code latest} by default, {@code none}, or a checkpoint or savepoint path).
     */
    public static Configuration configure(TrainerConfig config, String checkpointDir) {
        Configuration conf = new Configuration();
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir);
        conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION, ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        // Compressed snapshots restore in 0.1 s instead of 11: Flink 2.2 reads an uncompressed operator-state file one
        // byte per system call (CompressibleFSDataInputStream has no bulk read), and the trainer's state is ~11 MB.
        conf.set(org.apache.flink.configuration.ExecutionOptions.SNAPSHOT_COMPRESSION, true);
        Optional<String> restore = RetainedCheckpoints.resolve(config.string("restore.from"), checkpointDir);
        if (restore.isPresent()) {
            LOG.info("resuming student '{}' from {}", config.string("student.name"), restore.get());
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restore.get());
            if (config.integer("train.parallelism") == 1 && !java.util.Collections.disjoint(
                    RetainedCheckpoints.operatorUids(restore.get()), PARALLEL_ONLY_UIDS)) {
                // Taken with train.parallelism > 1: it also holds the sync source's, merger's and sync sink's state,
                // which a single trainer has no use for. Only then is unclaimed state let go, so that any other
                // state the job cannot map (a checkpoint of another job or build) still stops it with Flink's error.
                LOG.info("{} was taken with train.parallelism > 1: the sync operators' state in it is not restored", restore.get());
                conf.set(StateRecoveryOptions.SAVEPOINT_IGNORE_UNCLAIMED_STATE, true);
            }
        } else {
            LOG.info("starting student '{}' without Flink state (restore.from={}, checkpoints go to {})",
                    config.string("student.name"), config.string("restore.from"), checkpointDir);
        }
        return conf;
    }

    public static void enableCheckpointing(StreamExecutionEnvironment env, TrainerConfig config) {
        env.enableCheckpointing(config.longValue("checkpoint.interval.ms"), CheckpointingMode.EXACTLY_ONCE);
    }

    /** {@code --key=value} flags; {@code --checkpoint.dir=URI} sets Flink's checkpoint directory. */
    public static void main(String[] args) throws Exception {
        run(flags(args), null, List.of());
    }

    /**
     * Runs the job until it ends: in the environment {@code flink run} gives (or a MiniCluster) when
     * {@code flinkCluster} is null, else submitted to that cluster's REST address with {@code jars}
     * as its code. The job's settings are validated and the Kafka credentials checked first.
     */
    public static void run(Map<String, String> settings, String flinkCluster, List<Path> jars) throws Exception {
        Map<String, String> flags = new LinkedHashMap<>(settings);
        String checkpointDir = flags.containsKey("checkpoint.dir") ? flags.remove("checkpoint.dir")
                : "file://" + System.getProperty("user.dir") + "/streamdistill-data/flink-checkpoints";
        Map<String, String> objectStore = io.streamdistill.artifacts.ObjectStoreSettings.only(flags);
        flags.keySet().removeAll(objectStore.keySet());
        TrainerConfig config = TrainerConfig.of(flags);
        if (flinkCluster != null && !objectStore.isEmpty()) {
            throw new IllegalArgumentException("the s3.* settings (" + String.join(", ", objectStore.keySet()) + ") configure a local"
                    + " MiniCluster's file system; a Flink cluster takes them in its own config.yaml, with the s3-fs-hadoop plugin in"
                    + " its plugins/ directory");
        }
        if (flinkCluster == null && ObjectStoreFileSystem.needed(objectStore.isEmpty() ? Map.of("artifact.dir", config.string("artifact.dir"),
                "checkpoint.dir", checkpointDir) : objectStore)) {
            ObjectStoreFileSystem.initialize(objectStore);
        }
        // Wrong credentials or a wrong port: one line naming the setting, not a job restarting forever.
        io.streamdistill.schemas.KafkaAccess.check(config.kafkaConfig(), "--kafka.", java.time.Duration.ofSeconds(30));
        createSyncTopic(config);
        Configuration conf = configure(config, checkpointDir);
        StreamExecutionEnvironment env = flinkCluster == null ? StreamExecutionEnvironment.getExecutionEnvironment(conf)
                : ClusterJob.environment(flinkCluster, conf, jars);
        enableCheckpointing(env, config);
        build(env, config);
        env.execute("streamdistill-student-trainer " + config.string("student.name"));
    }

    /** {@code --key=value} arguments as a map, in order; anything else is refused with the argument named. */
    public static Map<String, String> flags(String[] args) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (!a.startsWith("--") || eq < 0) {
                throw new IllegalArgumentException("arguments are --key=value, got '" + a + "'");
            }
            flags.put(a.substring(2, eq), a.substring(eq + 1));
        }
        return flags;
    }

    private StudentTrainerJob() {
    }
}
