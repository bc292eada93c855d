package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.localstack.EmbeddedKafka;
import io.streamdistill.localstack.KafkaCluster;
import io.streamdistill.localstack.TopicSetup;
import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.student.train.HoldoutSlice;
import io.streamdistill.trainer.StudentTrainerJob;
import io.streamdistill.trainer.TrainerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broker failures while a producer, the teacher and the trainer job all run: the one broker
 * restarted, and one of three broker JVMs killed. Each test has its own brokers, so other tests
 * keep theirs; the registry is the shared one.
 */
class BrokerRestartTest {
    private static final int RECORDS = 400;
    private static final Duration RECOVERY = Duration.ofSeconds(120);

    /**
     * Every part resumes by itself within {@link #RECOVERY} of the broker's return, and the counts
     * still add up: each input id once in soft targets + dead letters, each published version once
     * and increasing, and the last student trained on exactly the non-holdout records.
     */
    @Test
    void everythingResumesAfterABrokerRestartAndTheCountsAddUp(@TempDir Path dir) throws Exception {
        try (EmbeddedKafka broker = EmbeddedKafka.builder().logDir(dir.resolve("kafka")).build().start()) {
            double seconds = runThrough(broker.bootstrapServers(), dir, () -> {
                broker.stop();
                sleep(5000);
                broker.start();
            });
            System.out.printf("broker restart: everything caught up %.1f s after the broker returned%n", seconds);
        }
    }

    /**
     * A cluster of three broker JVMs, every topic with replication factor 3 and min.insync.replicas
     * 2: the broker leading the soft-target partition is SIGKILLed under load and stays down. The
     * producer, the teacher and the trainer job go on through the leader change without being
     * restarted, and the counts add up as above.
     */
    @Test
    void aBrokerKilledUnderLoadWithReplicationFactor3LosesAndDoublesNothing(@TempDir Path dir) throws Exception {
        try (KafkaCluster cluster = KafkaCluster.of(dir.resolve("kafka"), 3).start()) {
            double seconds = runThrough(cluster.bootstrapServers(), dir, () -> {
                int leader = leaderOf(cluster.bootstrapServers(), "soft");
                cluster.killBroker(leader);
                System.out.printf("SIGKILLed broker %d, the leader of soft-0%n", leader);
            });
            System.out.printf("broker kill: everything caught up %.1f s after the kill%n", seconds);
        }
    }

    /**
     * Topics, teacher, trainer and traffic against {@code bootstrap}; {@code fault} runs once both
     * have output; returns the seconds from the end of the fault until everything caught up.
     */
    private static double runThrough(String bootstrap, Path dir, Runnable fault) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            TopicSetup.ensureTopics(admin, List.of(new NewTopic("text", Optional.of(1), Optional.empty()),
                    new NewTopic("soft", Optional.of(1), Optional.empty()), new NewTopic("dead", Optional.of(1), Optional.empty()),
                    new NewTopic("checkpoints", Optional.of(1), Optional.empty())), Duration.ofSeconds(30));
        }
        Map<String, String> teacherSettings = new HashMap<>(Map.of("bootstrap.servers", bootstrap, "input.topic", "text",
                "output.topic", "soft", "dead.letter.topic", "dead", "group.id", "restart-teacher",
                "transactional.id", "restart-teacher", "poll.max.records", "32"));
        TrainerConfig trainer = TrainerConfig.of(Map.ofEntries(Map.entry("bootstrap.servers", bootstrap),
                Map.entry("schema.registry.url", SharedStack.get().registryUrl()), Map.entry("input.topic", "soft"),
                Map.entry("output.topic", "checkpoints"), Map.entry("student.name", "restart"),
                Map.entry("student.task", "EMBEDDING"), Map.entry("student.output.dim", "384"),
                Map.entry("student.embedding.dim", "16"), Map.entry("starting.offsets", "earliest"),
                Map.entry("export.every.records", "100"), Map.entry("export.every.seconds", "1"),
                Map.entry("holdout.percent", "10"), Map.entry("checkpoint.interval.ms", "1000"),
                Map.entry("gate.max.regression", "1"), Map.entry("restore.from", "none"),
                Map.entry("artifact.dir", dir.resolve("artifacts").toUri().toString())));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1,
                StudentTrainerJob.configure(trainer, dir.resolve("flink").toUri().toString()));
        StudentTrainerJob.enableCheckpointing(env, trainer);
        StudentTrainerJob.build(env, trainer);

        try (RunningTeacher teacher = RunningTeacher.start(teacherSettings);
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
                     ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.ACKS_CONFIG, "all",
                     ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000, ProducerConfig.MAX_BLOCK_MS_CONFIG, 300_000),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            JobClient job = env.executeAsync("broker-failure-test");
            List<Throwable> sendErrors = new ArrayList<>();
            Thread traffic = new Thread(() -> {
                for (int i = 0; i < RECORDS; i++) {
                    producer.send(new ProducerRecord<>("text", utf8("r-" + i), utf8("live sentence number " + i + " about restarts")),
                            (m, e) -> {
                                if (e != null) {
                                    synchronized (sendErrors) {
                                        sendErrors.add(e);
                                    }
                                }
                            });
                    sleep(25);
                }
                producer.flush();
            }, "traffic");
            traffic.start();

            // 1. The fault mid-stream, once the teacher and the trainer both have output.
            awaitCount(bootstrap, "soft", 100, Duration.ofSeconds(120));
            awaitCount(bootstrap, "checkpoints", 1, Duration.ofSeconds(120));
            fault.run();
            long back = System.nanoTime();

            // 2. Every part resumes on its own.
            awaitReady(teacher, RECOVERY);
            traffic.join(RECOVERY.toMillis());
            assertThat(sendErrors).as("the producer's sends all succeeded").isEmpty();
            Map<String, Long> ids = awaitAllIds(bootstrap, RECORDS, RECOVERY);
            long expectedTrained = ids.keySet().stream().filter(id -> !HoldoutSlice.contains(id, 10)).count();
            List<StudentCheckpoint> published = awaitRecordsSeen(bootstrap, expectedTrained, RECOVERY);
            double recoverySeconds = (System.nanoTime() - back) / 1e9;
            assertThat(job.getJobStatus().get()).as("the trainer job kept running").isEqualTo(JobStatus.RUNNING);
            job.cancel().get(30, TimeUnit.SECONDS);

            // 3. The counts add up.
            assertThat(ids).hasSize(RECORDS);
            assertThat(ids.values()).as("each input id exactly once across soft targets and dead letters").allMatch(c -> c == 1);
            List<Long> versions = published.stream().map(StudentCheckpoint::getVersion).toList();
            assertThat(versions).isSorted().doesNotHaveDuplicates();
            assertThat(published.get(published.size() - 1).getRecordsSeen()).isEqualTo(expectedTrained);
            assertThat(published.get(published.size() - 1).getTrainedIds().getDigest()).as("trained on exactly those ids")
                    .isEqualTo(io.streamdistill.trainer.TrainedIdsDigest.of(
                            ids.keySet().stream().filter(id -> !HoldoutSlice.contains(id, 10)).toList()));
            return recoverySeconds;
        }
    }

    /** The broker id leading partition 0 of a topic. */
    private static int leaderOf(String bootstrap, String topic) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().get(0).leader().id();
        } catch (Exception e) {
            throw new AssertionError("cannot find the leader of " + topic + ": " + e, e);
        }
    }

    private static void awaitReady(RunningTeacher teacher, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (teacher.service.isReady()) {
                return;
            }
            sleep(200);
        }
        throw new AssertionError("the teacher was not ready again within " + timeout + ": " + teacher.service.notReadyReason());
    }

    private static void awaitCount(String bootstrap, String topic, int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (KafkaIO.readCommitted(bootstrap, topic, Duration.ofSeconds(1)).size() >= n) {
                return;
            }
        }
        throw new AssertionError(topic + " did not reach " + n + " records within " + timeout);
    }

    /** Input id -> how many times it appears in soft targets and dead letters together. */
    private static Map<String, Long> awaitAllIds(String bootstrap, int n, Duration timeout) {
        AvroDeserializer<SoftTarget> st = new AvroDeserializer<>(SharedStack.registryClient(), SoftTarget.class);
        AvroDeserializer<DeadLetter> dl = new AvroDeserializer<>(SharedStack.registryClient(), DeadLetter.class);
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Long> ids = Map.of();
        while (System.nanoTime() < deadline) {
            List<String> all = new ArrayList<>();
            KafkaIO.readCommitted(bootstrap, "soft", Duration.ofSeconds(2)).forEach(r -> all.add(st.deserialize("soft", r.value()).getId()));
            KafkaIO.readCommitted(bootstrap, "dead", Duration.ofMillis(500)).forEach(r -> all.add(dl.deserialize("dead", r.value()).getId()));
            ids = all.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
            if (ids.size() >= n) {
                return ids;
            }
        }
        throw new AssertionError("only " + ids.size() + " of " + n + " input ids came out within " + timeout);
    }

    private static List<StudentCheckpoint> awaitRecordsSeen(String bootstrap, long records, Duration timeout) {
        AvroDeserializer<StudentCheckpoint> d = new AvroDeserializer<>(SharedStack.registryClient(), StudentCheckpoint.class);
        long deadline = System.nanoTime() + timeout.toNanos();
        List<StudentCheckpoint> published = List.of();
        while (System.nanoTime() < deadline) {
            published = KafkaIO.readCommitted(bootstrap, "checkpoints", Duration.ofSeconds(1)).stream()
                    .map(r -> d.deserialize("checkpoints", r.value())).toList();
            if (!published.isEmpty() && published.get(published.size() - 1).getRecordsSeen() >= records) {
                return published;
            }
        }
        throw new AssertionError("the trainer did not publish a student trained on " + records + " records within " + timeout
                + "; last: " + (published.isEmpty() ? "none" : published.get(published.size() - 1).getRecordsSeen()));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
