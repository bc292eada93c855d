package io.streamdistill.it;

import io.streamdistill.flinkcluster.FlinkCluster;
import io.streamdistill.flinkcluster.JobJars;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.records.Task;
import io.streamdistill.records.TeacherRef;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.student.train.HoldoutSlice;
import io.streamdistill.trainer.ClusterJob;
import io.streamdistill.trainer.StudentTrainerJob;
import io.streamdistill.trainer.TrainerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The trainer's job on a {@link FlinkCluster} of child JVMs against one Kafka + registry, as the
 * cluster test and the cluster benchmark use it: soft targets from a fixed rule, the job shipped
 * as user code, and the published checkpoints read back under read_committed.
 */
final class ClusterTraining {
    static final int HOLDOUT = 10;
    private static final List<String> CLASSES = List.of("a", "b", "c", "d");
    private static final String[] WORDS = {"apple", "river", "engine", "violin"};

    final FlinkCluster cluster;
    private final String bootstrap;
    private final String registryUrl;
    private final List<Path> jobJars;

    private ClusterTraining(FlinkCluster cluster, String bootstrap, String registryUrl, List<Path> jobJars) {
        this.cluster = cluster;
        this.bootstrap = bootstrap;
        this.registryUrl = registryUrl;
        this.jobJars = jobJars;
    }

    /**
     * A cluster of {@code taskManagers} one-slot TaskManagers set up as the CLI sets it up (the JNI
     * jars in lib/, resolved parent first), and the job's jars to ship.
     */
    static ClusterTraining start(Path dir, int taskManagers, String bootstrap, String registryUrl) {
        return start(dir, taskManagers, 1, List.of(), bootstrap, registryUrl);
    }

    /** Like the other, with {@code slots} per TaskManager and {@code moreLib} in lib/ besides the trainer's (e.g. the table runtime). */
    static ClusterTraining start(Path dir, int taskManagers, int slots, List<Path> moreLib, String bootstrap, String registryUrl) {
        List<Path> lib = new ArrayList<>(JobJars.named(ClusterJob.RUNTIME_LIST, ClusterJob.LIB_ARTIFACTS));
        lib.addAll(moreLib);
        FlinkCluster cluster = FlinkCluster.builder().dir(dir.resolve("flink")).taskManagers(taskManagers).slots(slots)
                .libJars(lib)
                .config("classloader.parent-first-patterns.additional", ClusterJob.PARENT_FIRST_PATTERNS).build().start();
        return new ClusterTraining(cluster, bootstrap, registryUrl,
                JobJars.of(ClusterJob.RUNTIME_LIST, dir.resolve("job"), ClusterJob.LIB_ARTIFACTS,
                        ClusterJob.ownClasses().toArray(Class<?>[]::new)));
    }

    /**
     * Submits the trainer reading {@code in} and publishing to {@code out}, checkpointing every
     * {@code checkpointMs} to the shared directory under {@code name}.
     */
    JobClient submit(String in, String out, String name, String restoreFrom, long checkpointMs) throws Exception {
        return submit(in, out, name, restoreFrom, checkpointMs, Map.of());
    }

    /** Like the other, with {@code extra} trainer settings on top. */
    JobClient submit(String in, String out, String name, String restoreFrom, long checkpointMs, Map<String, String> extra)
            throws Exception {
        Map<String, String> s = new HashMap<>(Map.of(
                "bootstrap.servers", bootstrap, "schema.registry.url", registryUrl,
                "input.topic", in, "output.topic", out, "group.id", "cluster-" + name, "student.name", "cluster-" + name,
                "student.classes", String.join(",", CLASSES), "student.embedding.dim", "32",
                "artifact.dir", cluster.sharedDir().resolve("artifacts").toUri().toString()));
        s.put("starting.offsets", "earliest");
        s.put("holdout.percent", String.valueOf(HOLDOUT));
        s.put("export.every.records", "500");
        s.put("export.every.seconds", "2");
        s.put("restore.from", restoreFrom);
        s.put("checkpoint.interval.ms", String.valueOf(checkpointMs));
        s.put("transactional.id.prefix", "cluster-" + name + "-" + out);
        s.putAll(extra);
        TrainerConfig config = TrainerConfig.of(s);
        StudentTrainerJob.createSyncTopic(config);
        StreamExecutionEnvironment env = ClusterJob.environment(cluster.restAddress(),
                StudentTrainerJob.configure(config, checkpointDir(name)), jobJars);
        StudentTrainerJob.enableCheckpointing(env, config);
        StudentTrainerJob.build(env, config);
        return env.executeAsync("cluster " + name);
    }

    String checkpointDir(String name) {
        return cluster.sharedDir().resolve("checkpoints").resolve(name).toUri().toString();
    }

    /** Records with ids {@code from .. from+n-1} that the trainer trains on (the rest are its holdout slice). */
    static long trainingRecords(int from, int n) {
        long count = 0;
        for (int i = from; i < from + n; i++) {
            if (!HoldoutSlice.contains(id(i), HOLDOUT)) {
                count++;
            }
        }
        return count;
    }

    /** The ids of those records, for comparing with a version's {@code trainedIds}. */
    static java.util.List<String> trainingIds(int from, int n) {
        java.util.List<String> ids = new java.util.ArrayList<>();
        for (int i = from; i < from + n; i++) {
            if (!HoldoutSlice.contains(id(i), HOLDOUT)) {
                ids.add(id(i));
            }
        }
        return ids;
    }

    private static String id(int i) {
        return "cluster-" + i;
    }

    /** Soft targets from a fixed rule (the class is a word of the text), so the student has something to learn. */
    void produce(String topic, int from, int n) {
        AvroSerializer<SoftTarget> serializer = new AvroSerializer<>(registry());
        TeacherRef ref = TeacherRef.newBuilder().setModelId("rule").setSha256("00".repeat(32)).setTokenizer("none").build();
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = from; i < from + n; i++) {
                int k = Math.floorMod(i * 7919, 4);
                List<Float> logits = new ArrayList<>();
                for (int c = 0; c < 4; c++) {
                    logits.add(c == k ? 3f : 0f);
                }
                SoftTarget st = SoftTarget.newBuilder().setId(id(i)).setText("the " + WORDS[k] + " number " + i + " of the stream")
                        .setLabel(null).setEventTime(Instant.now()).setTeacher(ref).setTask(Task.CLASSIFICATION).setClassLogits(logits)
                        .setEmbedding(null).setLanguageModel(null).setInputTokens(8).setTruncated(false).setTeacherLatencyMicros(1000)
                        .setProducedAt(Instant.now()).build();
                p.send(new ProducerRecord<>(topic, st.getId().getBytes(StandardCharsets.UTF_8), serializer.serialize(topic, st)));
            }
            p.flush();
        }
    }

    /** A thread that produces {@code n} records from {@code from} in {@code batches} batches 1.5 s apart: traffic while things fail. */
    Thread produceInBackground(String topic, int from, int n, int batches) {
        Thread t = new Thread(() -> {
            for (int b = 0; b < batches; b++) {
                produce(topic, from + b * n / batches, n / batches);
                try {
                    Thread.sleep(1500);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "cluster-producer");
        t.start();
        return t;
    }

    /** Everything published to {@code topic} so far, read_committed. */
    List<StudentCheckpoint> checkpoints(String topic) {
        AvroDeserializer<StudentCheckpoint> d = new AvroDeserializer<>(registry(), StudentCheckpoint.class);
        List<StudentCheckpoint> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "verify-" + System.nanoTime(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
            while (System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r -> out.add(d.deserialize(topic, r.value())));
            }
        }
        return out;
    }

    /** The first version published after {@code version}. */
    StudentCheckpoint awaitVersionAfter(String topic, long version, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            List<StudentCheckpoint> all = checkpoints(topic);
            if (!all.isEmpty() && last(all).getVersion() > version) {
                return all.stream().filter(c -> c.getVersion() > version).findFirst().orElseThrow();
            }
        }
        throw new AssertionError("no version after " + version + " within " + timeout + "; " + diagnosis());
    }

    /** Everything published once a version has seen {@code records} training records. */
    List<StudentCheckpoint> awaitRecordsSeen(String topic, long records, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<StudentCheckpoint> published = List.of();
        while (System.nanoTime() < deadline) {
            published = checkpoints(topic);
            if (!published.isEmpty() && last(published).getRecordsSeen() >= records) {
                return published;
            }
        }
        throw new AssertionError("no published checkpoint reached " + records + " records in " + timeout + "; last: "
                + (published.isEmpty() ? "none" : last(published).getRecordsSeen()) + "; " + diagnosis());
    }

    /** Why a wait failed, as far as the cluster can say: its jobs, their restarts' causes, its processes. */
    String diagnosis() {
        return "the cluster's logs are in " + cluster.sharedDir().resolve("log") + "\n" + cluster.jobReport();
    }

    /**
     * Cancels a job that is still running, in a test's finally block: a job that already failed
     * is left alone, so that the test's own failure, not the cancellation's, is what it reports.
     */
    static void cancelIfRunning(org.apache.flink.core.execution.JobClient job) throws Exception {
        if (!job.getJobStatus().get().isGloballyTerminalState()) {
            job.cancel().get();
        }
    }

    static StudentCheckpoint last(List<StudentCheckpoint> l) {
        return l.get(l.size() - 1);
    }

    /** CPU seconds (user + system) a process has used so far, from /proc. */
    static double cpuSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime in clock ticks (USER_HZ = 100)
        } catch (java.io.IOException e) {
            return Double.NaN;
        }
    }

    /** Resident memory of a process, MB (from /proc). */
    static long rssMb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (java.io.IOException gone) {
            // The process ended.
        }
        return -1;
    }

    /** "JobManager 356 MB; TaskManager 551 MB; ..." for the running processes. */
    String rssReport() {
        List<Long> pids = cluster.pids();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < pids.size(); i++) {
            sb.append(i == 0 ? "JobManager " : "; TaskManager ").append(rssMb(pids.get(i))).append(" MB");
        }
        return sb.toString();
    }

    private SchemaRegistryClient registry() {
        return new SchemaRegistryClient(RegistryConfig.builder(registryUrl).build());
    }
}
