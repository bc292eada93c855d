package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input corpus ({@link BadInputCorpus}: 16 kinds, each between two good records) sent by
 * two independent clients, the Java producer and kcat: every bad record lands in dead letters with
 * its reason and original bytes or is processed correctly, and every good record comes through intact.
 */
class BadInputCorpusTest {

    /** The corpus produced with the Java client, plus a tombstone (null value). */
    @Test
    void everyKindFromTheJavaClientIsDeadLetteredWithItsReasonOrProcessed() throws Exception {
        TestTopics t = TestTopics.create("badjava");
        List<BadInputCorpus.Case> cases = new ArrayList<>(BadInputCorpus.cases(t.in()));
        cases.add(new BadInputCorpus.Case("tombstone", null, "NULL_VALUE", null, false));
        AvroSerializer<TextEvent> avro = new AvroSerializer<>(SharedStack.registryClient());
        try (RunningTeacher teacher = RunningTeacher.start(t.teacherSettings());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", SharedStack.get().bootstrapServers(),
                     ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2_000_000, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < cases.size(); i++) {
                producer.send(new ProducerRecord<>(t.in(), utf8("good-" + i), BadInputCorpus.good(t.in(), i, avro))).get();
                producer.send(new ProducerRecord<>(t.in(), utf8(cases.get(i).key()), cases.get(i).value())).get();
            }
            producer.send(new ProducerRecord<>(t.in(), utf8("good-last"), utf8("the last good sentence"))).get();
            verify(t, cases, teacher);
        }
    }

    /** The same corpus produced with kcat, one file per record (kcat sends a whole file as one message). */
    @Test
    void everyKindFromKcatIsDeadLetteredWithItsReasonOrProcessed(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(new ProcessBuilder("sh", "-c", "command -v kcat").start().waitFor() == 0,
                "kcat is not installed (Debian package kcat; .ci/run installs it)");
        TestTopics t = TestTopics.create("badkcat");
        List<BadInputCorpus.Case> cases = BadInputCorpus.cases(t.in());
        AvroSerializer<TextEvent> avro = new AvroSerializer<>(SharedStack.registryClient());
        try (RunningTeacher teacher = RunningTeacher.start(t.teacherSettings())) {
            for (int i = 0; i < cases.size(); i++) {
                kcat(dir, t.in(), "good-" + i, BadInputCorpus.good(t.in(), i, avro));
                kcat(dir, t.in(), cases.get(i).key(), cases.get(i).value());
            }
            kcat(dir, t.in(), "good-last", utf8("the last good sentence"));
            verify(t, cases, teacher);
        }
    }

    private static void kcat(Path dir, String topic, String key, byte[] value) throws Exception {
        Path file = Files.write(dir.resolve(key), value);
        Process p = new ProcessBuilder("kcat", "-P", "-b", SharedStack.get().bootstrapServers(), "-t", topic, "-k", key,
                "-X", "message.max.bytes=2000000", file.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
    }

    private static void verify(TestTopics t, List<BadInputCorpus.Case> cases, RunningTeacher teacher) {
        int goods = cases.size() + 1;
        long processed = cases.stream().filter(c -> !c.deadLetter()).count();
        long dead = cases.size() - processed;
        AvroDeserializer<SoftTarget> st = new AvroDeserializer<>(SharedStack.registryClient(), SoftTarget.class);
        AvroDeserializer<DeadLetter> dl = new AvroDeserializer<>(SharedStack.registryClient(), DeadLetter.class);
        Map<String, SoftTarget> soft = read(t.out(), goods + (int) processed).stream().map(r -> st.deserialize(t.out(), r.value()))
                .collect(Collectors.toMap(SoftTarget::getId, Function.identity())); // throws on a duplicate id
        List<DeadLetter> deadLetters = read(t.dead(), (int) dead).stream().map(r -> dl.deserialize(t.dead(), r.value())).toList();
        Map<String, DeadLetter> deadByKey = deadLetters.stream().collect(Collectors.toMap(
                d -> StandardCharsets.UTF_8.decode(d.getOriginalKey()).toString(), Function.identity()));

        for (int i = 0; i < cases.size(); i++) {
            assertThat(soft).as("good record before %s", cases.get(i).name()).containsKey("good-" + i);
            assertThat(soft.get("good-" + i).getText()).isEqualTo(BadInputCorpus.goodText(i));
        }
        assertThat(soft).containsKey("good-last");
        for (BadInputCorpus.Case c : cases) {
            if (c.deadLetter()) {
                assertThat(deadByKey).as(c.name()).containsKey(c.key());
                DeadLetter d = deadByKey.get(c.key());
                assertThat(d.getReason()).as(c.name()).isEqualTo(c.reason());
                assertThat(d.getMessage()).as(c.name()).isNotBlank();
                assertThat(d.getTopic()).isEqualTo(t.in());
                if (c.value() == null) {
                    assertThat(d.getOriginalValue()).isNull();
                } else {
                    byte[] original = new byte[d.getOriginalValue().remaining()];
                    d.getOriginalValue().get(original);
                    assertThat(original).as("%s: the original bytes, unchanged", c.name()).isEqualTo(c.value());
                }
            } else {
                assertThat(soft).as(c.name()).containsKey(c.key());
                SoftTarget s = soft.get(c.key());
                assertThat(s.getTruncated()).as(c.name() + " truncated").isEqualTo(c.truncated());
                if (c.truncated()) {
                    assertThat(c.text()).startsWith(s.getText());
                    assertThat(s.getText().length()).isLessThan(c.text().length());
                } else {
                    assertThat(s.getText()).as(c.name()).isEqualTo(c.text());
                }
                assertThat(s.getEmbedding()).as(c.name()).hasSize(384).allMatch(Float::isFinite);
            }
        }
        assertThat(soft).hasSize(goods + (int) processed);
        assertThat(deadLetters).hasSize((int) dead);
        assertThat(teacher.alive()).as("the teacher keeps running").isTrue();
        assertThat(teacher.service.metrics().deadLetters()).isEqualTo(dead);
    }

    private static List<ConsumerRecord<String, byte[]>> read(String topic, int expected) {
        return KafkaIO.readAll(topic, KafkaIO.consumerConfig(ByteArrayDeserializer.class, "read_committed"), expected);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
