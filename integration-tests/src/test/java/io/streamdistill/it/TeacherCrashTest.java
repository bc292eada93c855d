package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.records.SoftTarget;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.teacher.TeacherServiceMain;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TeacherCrashTest {

    private static Process teacher(String in, String out, String dead, Path log) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), TeacherServiceMain.class.getName(),
                "--bootstrap.servers=" + SharedStack.get().bootstrapServers(), "--schema.registry.url=" + SharedStack.get().registryUrl(),
                "--input.topic=" + in, "--output.topic=" + out, "--dead.letter.topic=" + dead, "--http.port=-1",
                "--transactional.id=crash-teacher", "--group.id=crash-teacher", "--poll.max.records=40", "--batch.max.size=8"));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** Offsets of the output partition: the high watermark and the last stable offset (LSO < HW while a transaction is open). */
    private static long[] watermarks(Admin admin, String topic) throws Exception {
        TopicPartition tp = new TopicPartition(topic, 0);
        long hw = admin.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
                .partitionResult(tp).get().offset();
        long lso = admin.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                .partitionResult(tp).get().offset();
        return new long[] {hw, lso};
    }

    /** The teacher SIGKILLed while a transaction holds records, then restarted: every input id exactly once under read_committed. */
    @Test
    void teacherKilledMidTransactionThenRestartedLosesAndDuplicatesNothing(@TempDir Path dir) throws Exception {
        String in = SharedStack.newTopic("crash-text", 1);
        String out = SharedStack.newTopic("crash-soft", 1);
        String dead = SharedStack.newTopic("crash-dead", 1);
        int n = 500;
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedStack.get().bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < n; i++) {
                p.send(new ProducerRecord<>(in, ("id-" + i).getBytes(StandardCharsets.UTF_8),
                        ("crash test sentence number " + i).getBytes(StandardCharsets.UTF_8)));
            }
        }
        Path log = dir.resolve("teacher.log");
        Process first = teacher(in, out, dead, log);
        boolean killedInsideATransaction = false;
        try (Admin admin = SharedStack.get().admin()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline) {
                long[] w = watermarks(admin, out);
                if (w[1] >= 80 && w[0] > w[1]) { // some output committed, and an open transaction holds records
                    first.destroyForcibly(); // SIGKILL: no shutdown hook, the transaction stays open
                    killedInsideATransaction = true;
                    break;
                }
                Thread.sleep(5);
            }
        } finally {
            first.destroyForcibly();
            first.waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(killedInsideATransaction).as("killed while a transaction held uncommitted records").isTrue();

        Process second = teacher(in, out, dead, log);
        try {
            AvroDeserializer<SoftTarget> d = new AvroDeserializer<>(SharedStack.registryClient(), SoftTarget.class);
            List<ConsumerRecord<String, byte[]>> committed = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (committed.size() < n && System.nanoTime() < deadline) {
                committed = new ArrayList<>(KafkaIO.readRaw(out, n));
            }
            Map<String, Long> counts = committed.stream().map(r -> d.deserialize(out, r.value()).getId())
                    .collect(Collectors.groupingBy(id -> id, Collectors.counting()));
            assertThat(counts).hasSize(n);
            assertThat(counts.values()).allMatch(c -> c == 1);
            assertThat(KafkaIO.readRaw(dead, 0)).isEmpty();
            List<ConsumerRecord<String, byte[]>> everything = KafkaIO.readAll(out,
                    KafkaIO.consumerConfig(org.apache.kafka.common.serialization.ByteArrayDeserializer.class, "read_uncommitted"), n + 1);
            assertThat(everything.size()).as("the killed transaction's records are in the log, invisible to read_committed")
                    .isGreaterThan(n);
        } finally {
            second.destroyForcibly();
            second.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
