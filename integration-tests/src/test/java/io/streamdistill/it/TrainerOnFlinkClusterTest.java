package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.flinkcluster.FlinkCluster;
import io.streamdistill.flinkcluster.JobJars;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.records.Task;
import io.streamdistill.records.TeacherRef;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's job on a Flink session cluster of separate JVMs (one JobManager, two TaskManagers),
 * shipped as user code the way a job jar is: its own jars and the dependencies Flink does not
 * provide, while the JNI libraries (the tokenizer, ONNX Runtime) sit in the cluster's lib/ and are
 * resolved parent first. One cluster for the class: starting it costs ~20 s on 2 cores.
 */
class TrainerOnFlinkClusterTest {
    private static final int HOLDOUT = 10;
    private static final List<String> CLASSES = List.of("a", "b", "c", "d");
    @TempDir
    static Path dir;
    private static FlinkCluster cluster;
    private static List<Path> jobJars;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = FlinkCluster.builder().dir(dir.resolve("flink")).taskManagers(2).slots(1)
                .libJars(JobJars.named(ClusterJob.RUNTIME_LIST, ClusterJob.NATIVE_ARTIFACTS))
                .config("classloader.parent-first-patterns.additional", ClusterJob.PARENT_FIRST_PATTERNS).build().start();
        jobJars = JobJars.of(ClusterJob.RUNTIME_LIST, dir.resolve("job"), ClusterJob.ownClasses().toArray(Class<?>[]::new));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * A TaskManager SIGKILLed mid-stream: the job restarts from its latest checkpoint on the other
     * TaskManager, and a replacement registers. Every record is trained once (the last version has
     * seen exactly the training records produced), versions strictly increase with none published
     * twice under read_committed, the model continues (steps increase), and the next version comes
     * within 30 s of the kill at the default checkpoint interval.
     */
    @Test
    void aTaskManagerKilledMidStreamRecoversFromTheLatestCheckpointAndTrainsEveryRecordOnce() throws Exception {
        String in = SharedStack.newTopic("cluster-soft", 1);
        String out = SharedStack.newTopic("cluster-checkpoints", 1);
        produce(in, 0, 1500);
        JobClient job = submit(in, out, "tm-kill", "none");
        try {
            List<StudentCheckpoint> first = awaitRecordsSeen(out, trainingRecords(0, 1500), Duration.ofSeconds(120));
            assertThat(first).as("the job jar trains and publishes on the cluster").isNotEmpty();

            Thread producer = new Thread(() -> produceQuietly(in, 1500, 3000, 4), "cluster-test-producer");
            producer.start();
            Thread.sleep(4000);
            int victim = cluster.taskManagerRunning(job.getJobID().toString());
            assertThat(victim).as("a TaskManager runs the job").isGreaterThanOrEqualTo(0);
            long lastVersion = last(checkpoints(out)).getVersion();
            long killedAt = System.nanoTime();
            cluster.killTaskManager(victim);

            StudentCheckpoint next = awaitVersionAfter(out, lastVersion, Duration.ofSeconds(90));
            double recoverySeconds = (System.nanoTime() - killedAt) / 1e9;
            System.out.printf("TaskManager %d SIGKILLed: version %d published %.1f s later (last before the kill: %d)%n", victim,
                    next.getVersion(), recoverySeconds, lastVersion);
            assertThat(recoverySeconds).as("kill to the next published version, s").isLessThanOrEqualTo(30);

            cluster.startTaskManager();
            cluster.awaitTaskManagers(2);
            producer.join();
            List<StudentCheckpoint> all = awaitRecordsSeen(out, trainingRecords(0, 4500), Duration.ofSeconds(120));
            assertExactlyOnce(all, trainingRecords(0, 4500));
            reportRss();
        } finally {
            job.cancel().get();
        }
    }

    /**
     * The JobManager SIGKILLed and started again, without an HA service: the job is submitted again
     * and resumes from the checkpoint it retained in the shared directory (restore.from=latest), so
     * the model continues and every record is still trained once. The TaskManagers survive the
     * JobManager, so the new job's tasks load the tokenizer's JNI library in a JVM where the first
     * job's class loader already did: that works only because it is resolved parent first.
     */
    @Test
    void aJobManagerKilledAndRestartedResumesTheResubmittedJobFromItsRetainedCheckpoint() throws Exception {
        String in = SharedStack.newTopic("cluster-jm-soft", 1);
        String out = SharedStack.newTopic("cluster-jm-checkpoints", 1);
        produce(in, 0, 1500);
        JobClient first = submit(in, out, "jm-kill", "none");
        List<StudentCheckpoint> before = awaitRecordsSeen(out, trainingRecords(0, 1500), Duration.ofSeconds(120));
        awaitRetainedCheckpoint("jm-kill", first);
        int ranOn = cluster.taskManagerRunning(first.getJobID().toString());

        cluster.killJobManager();
        cluster.restartJobManager();
        produce(in, 1500, 1000);
        JobClient second = submit(in, out, "jm-kill", "latest");
        try {
            List<StudentCheckpoint> all = awaitRecordsSeen(out, trainingRecords(0, 2500), Duration.ofSeconds(120));
            assertExactlyOnce(all, trainingRecords(0, 2500));
            StudentCheckpoint lastBefore = last(before);
            List<StudentCheckpoint> after = all.stream().filter(c -> c.getVersion() > lastBefore.getVersion()).toList();
            assertThat(after).as("versions after the restart").isNotEmpty();
            assertThat(after.get(0).getStep()).as("the resubmitted job continued the model").isGreaterThan(lastBefore.getStep());
            System.out.printf("JobManager restarted: the first job ran on TaskManager %d, the resubmitted one on %d%n", ranOn,
                    cluster.taskManagerRunning(second.getJobID().toString()));
            for (Path log : Files.list(dir.resolve("flink/log")).filter(p -> p.toString().endsWith(".log")).toList()) {
                assertThat(Files.readString(log)).as(log.getFileName().toString()).doesNotContain("already loaded in another classloader");
            }
        } finally {
            second.cancel().get();
        }
    }

    // ---------------------------------------------------------------------------------------------

    private static JobClient submit(String in, String out, String name, String restoreFrom) throws Exception {
        Map<String, String> s = new HashMap<>(Map.of(
                "bootstrap.servers", SharedStack.get().bootstrapServers(), "schema.registry.url", SharedStack.get().registryUrl(),
                "input.topic", in, "output.topic", out, "group.id", "cluster-" + name, "student.name", "cluster-" + name,
                "student.classes", String.join(",", CLASSES), "student.embedding.dim", "32",
                "artifact.dir", cluster.sharedDir().resolve("artifacts").toUri().toString()));
        s.put("starting.offsets", "earliest");
        s.put("holdout.percent", String.valueOf(HOLDOUT));
        s.put("export.every.records", "500");
        s.put("export.every.seconds", "2");
        s.put("restore.from", restoreFrom);
        s.put("transactional.id.prefix", "cluster-test-" + out);
        TrainerConfig config = TrainerConfig.of(s);
        StreamExecutionEnvironment env = ClusterJob.environment(cluster.restAddress(),
                StudentTrainerJob.configure(config, checkpointDir(name)), jobJars);
        StudentTrainerJob.enableCheckpointing(env, config);
        StudentTrainerJob.build(env, config);
        return env.executeAsync("cluster-test " + name);
    }

    private static String checkpointDir(String name) {
        return cluster.sharedDir().resolve("checkpoints").resolve(name).toUri().toString();
    }

    /** Waits until the job's checkpoint directory holds a completed checkpoint (the job keeps it when it dies). */
    private static void awaitRetainedCheckpoint(String name, JobClient job) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (io.streamdistill.trainer.RetainedCheckpoints.latest(checkpointDir(name)).isEmpty()) {
            assertThat(System.nanoTime()).as("a completed checkpoint of job %s within 60 s", job.getJobID()).isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    private static void assertExactlyOnce(List<StudentCheckpoint> all, long trainingRecords) {
        assertThat(all.stream().map(StudentCheckpoint::getVersion).toList()).as("versions").isSorted().doesNotHaveDuplicates();
        assertThat(all.stream().map(StudentCheckpoint::getStep).toList()).as("steps: the model continued").isSorted();
        assertThat(last(all).getRecordsSeen()).as("every training record once: none lost, none twice").isEqualTo(trainingRecords);
    }

    private static void reportRss() throws Exception {
        List<Long> pids = cluster.pids();
        StringBuilder sb = new StringBuilder("RSS per process:");
        for (int i = 0; i < pids.size(); i++) {
            sb.append(i == 0 ? " JobManager " : " TaskManager ").append(rssMb(pids.get(i))).append(" MB;");
        }
        sb.append(" this JVM (broker, registry client, test) ").append(rssMb(ProcessHandle.current().pid())).append(" MB");
        System.out.println(sb);
    }

    private static long rssMb(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }

    private static long trainingRecords(int from, int n) {
        long count = 0;
        for (int i = from; i < from + n; i++) {
            if (!HoldoutSlice.contains(id(i), HOLDOUT)) {
                count++;
            }
        }
        return count;
    }

    private static String id(int i) {
        return "cluster-" + i;
    }

    private static void produceQuietly(String topic, int from, int n, int batches) {
        try {
            for (int b = 0; b < batches; b++) {
                produce(topic, from + b * n / batches, n / batches);
                Thread.sleep(1500);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Soft targets from a fixed rule (the class is a word of the text), so the student has something to learn. */
    private static void produce(String topic, int from, int n) throws Exception {
        AvroSerializer<SoftTarget> serializer = new AvroSerializer<>(SharedStack.registryClient());
        TeacherRef ref = TeacherRef.newBuilder().setModelId("rule").setSha256("00".repeat(32)).setTokenizer("none").build();
        String[] words = {"apple", "river", "engine", "violin"};
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedStack.get().bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = from; i < from + n; i++) {
                int k = Math.floorMod(i * 7919, 4);
                List<Float> logits = new ArrayList<>();
                for (int c = 0; c < 4; c++) {
                    logits.add(c == k ? 3f : 0f);
                }
                SoftTarget st = SoftTarget.newBuilder().setId(id(i)).setText("the " + words[k] + " number " + i + " of the stream")
                        .setLabel(null).setEventTime(Instant.now()).setTeacher(ref).setTask(Task.CLASSIFICATION).setClassLogits(logits)
                        .setEmbedding(null).setLanguageModel(null).setInputTokens(8).setTruncated(false).setTeacherLatencyMicros(1000)
                        .setProducedAt(Instant.now()).build();
                p.send(new ProducerRecord<>(topic, st.getId().getBytes(StandardCharsets.UTF_8), serializer.serialize(topic, st)));
            }
            p.flush();
        }
    }

    private static StudentCheckpoint last(List<StudentCheckpoint> l) {
        return l.get(l.size() - 1);
    }

    private static List<StudentCheckpoint> checkpoints(String topic) {
        AvroDeserializer<StudentCheckpoint> d = new AvroDeserializer<>(SharedStack.registryClient(), StudentCheckpoint.class);
        List<StudentCheckpoint> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", SharedStack.get().bootstrapServers(),
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

    private static StudentCheckpoint awaitVersionAfter(String topic, long version, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            List<StudentCheckpoint> all = checkpoints(topic);
            if (!all.isEmpty() && last(all).getVersion() > version) {
                return all.stream().filter(c -> c.getVersion() > version).findFirst().orElseThrow();
            }
        }
        throw new AssertionError("no version after " + version + " within " + timeout);
    }

    private static List<StudentCheckpoint> awaitRecordsSeen(String topic, long records, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<StudentCheckpoint> published = List.of();
        while (System.nanoTime() < deadline) {
            published = checkpoints(topic);
            if (!published.isEmpty() && last(published).getRecordsSeen() >= records) {
                return published;
            }
        }
        throw new AssertionError("no published checkpoint reached " + records + " records in " + timeout + "; last: "
                + (published.isEmpty() ? "none" : last(published).getRecordsSeen()) + "; the cluster's logs are in "
                + cluster.sharedDir().resolve("log"));
    }
}
