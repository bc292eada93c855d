package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.records.SoftTarget;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.teacher.TeacherServiceMain;
import io.streamdistill.trainer.StudentTrainerJob;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretsInLogsTest {
    private static final String KAFKA_SECRET = "kafka-pw-6d1f";
    private static final String REGISTRY_SECRET = "registry-pw-93ab";

    /** Credentials passed to the teacher (SASL JAAS, SSL passwords, registry basic auth) never appear in its INFO logs. */
    @Test
    void noPasswordAppearsInTheTeachersLogs(@TempDir Path dir) throws Exception {
        String in = SharedStack.newTopic("secret-text", 1);
        String out = SharedStack.newTopic("secret-soft", 1);
        String dead = SharedStack.newTopic("secret-dead", 1);
        Path log = dir.resolve("teacher.log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dlog4j2.configurationFile=classpath:log4j2-verbose.properties",
                "-cp", System.getProperty("java.class.path"), TeacherServiceMain.class.getName(),
                "--bootstrap.servers=" + SharedStack.get().bootstrapServers(), "--schema.registry.url=" + SharedStack.get().registryUrl(),
                "--input.topic=" + in, "--output.topic=" + out, "--dead.letter.topic=" + dead, "--http.port=-1",
                "--transactional.id=secret-teacher", "--group.id=secret-teacher",
                // Passed through to the clients; the broker here is PLAINTEXT, so they are carried but unused.
                "--kafka.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"svc\" password=\""
                        + KAFKA_SECRET + "\";",
                "--kafka.ssl.truststore.password=" + KAFKA_SECRET,
                "--basic.auth.credentials.source=USER_INFO", "--basic.auth.user.info=svc:" + REGISTRY_SECRET));
        Process teacher = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedStack.get().bootstrapServers()),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                p.send(new ProducerRecord<>(in, "s1".getBytes(StandardCharsets.UTF_8), "a text".getBytes(StandardCharsets.UTF_8))).get();
            }
            assertThat(KafkaIO.readRaw(out, 1)).as(() -> "the teacher works with these settings; its log:\n" + readQuietly(log)).hasSize(1);
            teacher.destroy();
            teacher.waitFor(60, TimeUnit.SECONDS);
        } finally {
            teacher.destroyForcibly();
        }
        String logs = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(logs).as("the logs are verbose enough to have shown the settings")
                .contains("ProducerConfig values").contains("starting with");
        assertThat(logs).doesNotContain(KAFKA_SECRET).doesNotContain(REGISTRY_SECRET);
    }

    /**
     * The same credentials given to the trainer job (what `streamdistill train` runs) never appear in
     * its INFO logs: Flink's, the Kafka source's and sink's client configurations, the registry client's.
     */
    @Test
    void noPasswordAppearsInTheTrainersLogs(@TempDir Path dir) throws Exception {
        String in = SharedStack.newTopic("secret-trainer-soft", 1);
        String out = SharedStack.newTopic("secret-trainer-checkpoints", 1);
        AvroSerializer<SoftTarget> serializer = new AvroSerializer<>(SharedStack.registryClient());
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedStack.get().bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 40; i++) {
                SoftTarget st = SoftTarget.newBuilder(SampleRecords.classification()).setId("secret-" + i).build();
                p.send(new ProducerRecord<>(in, st.getId().getBytes(StandardCharsets.UTF_8), serializer.serialize(in, st))).get();
            }
        }
        Path log = dir.resolve("trainer.log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Djava.io.tmpdir=" + dir, "-Dlog4j2.configurationFile=classpath:log4j2-verbose.properties",
                "-cp", System.getProperty("java.class.path"), StudentTrainerJob.class.getName(),
                "--bootstrap.servers=" + SharedStack.get().bootstrapServers(), "--schema.registry.url=" + SharedStack.get().registryUrl(),
                "--input.topic=" + in, "--output.topic=" + out, "--student.name=secret", "--student.classes=a,b,c,d",
                "--starting.offsets=earliest", "--bounded.end=latest", "--holdout.percent=0", "--checkpoint.interval.ms=500",
                "--artifact.dir=" + dir.resolve("artifacts").toUri(), "--checkpoint.dir=" + dir.resolve("flink").toUri(),
                "--kafka.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"svc\" password=\""
                        + KAFKA_SECRET + "\";",
                "--kafka.ssl.truststore.password=" + KAFKA_SECRET,
                "--basic.auth.credentials.source=USER_INFO", "--basic.auth.user.info=svc:" + REGISTRY_SECRET));
        Process trainer = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(trainer.waitFor(180, TimeUnit.SECONDS)).as("the bounded job finished").isTrue();
        } finally {
            trainer.destroyForcibly();
        }
        String logs = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(trainer.exitValue()).as(logs.length() > 4000 ? logs.substring(logs.length() - 4000) : logs).isZero();
        assertThat(KafkaIO.readRaw(out, 1)).as("the trainer published with these settings").hasSize(1);
        assertThat(logs).as("the logs are verbose enough to have shown the settings")
                .contains("ConsumerConfig values").contains("ProducerConfig values");
        assertThat(logs).doesNotContain(KAFKA_SECRET).doesNotContain(REGISTRY_SECRET);
    }

    /** On the secure stack (SASL_SSL, TLS registry with basic auth) the teacher's real passwords stay out of its verbose logs too. */
    @Test
    void noPasswordAppearsInTheTeachersLogsOnTheSecureStack(@TempDir Path dir) throws Exception {
        io.streamdistill.localstack.LocalStack stack = SharedSecureStack.get();
        {
            String teacherPassword = stack.security().password(io.streamdistill.localstack.BrokerSecurity.TEACHER);
            String storePassword = stack.security().storePassword();
            Path log = dir.resolve("teacher.log");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx1g", "-Dlog4j2.configurationFile=classpath:log4j2-verbose.properties",
                    "-cp", System.getProperty("java.class.path"), TeacherServiceMain.class.getName(),
                    "--bootstrap.servers=" + stack.bootstrapServers(), "--schema.registry.url=" + stack.registryUrl(), "--http.port=-1",
                    "--group.id=streamdistill-teacher-secrets", "--transactional.id=streamdistill-teacher-secrets"));
            stack.clientSettings(io.streamdistill.localstack.BrokerSecurity.TEACHER).forEach((k, v) -> cmd.add("--kafka." + k + "=" + v));
            stack.registrySettings(io.streamdistill.localstack.BrokerSecurity.TEACHER).forEach((k, v) -> cmd.add("--" + k + "=" + v));
            Process teacher = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                Map<String, Object> producer = new java.util.HashMap<>(stack.clientSettings(io.streamdistill.localstack.BrokerSecurity.PRODUCER));
                producer.put("bootstrap.servers", stack.bootstrapServers());
                try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(producer, new ByteArraySerializer(), new ByteArraySerializer())) {
                    p.send(new ProducerRecord<>(io.streamdistill.schemas.Topics.TEXT, "s1".getBytes(StandardCharsets.UTF_8),
                            "a text".getBytes(StandardCharsets.UTF_8))).get();
                }
                Map<String, Object> admin = new java.util.HashMap<>(stack.clientSettings(io.streamdistill.localstack.BrokerSecurity.ADMIN));
                admin.putAll(Map.of("bootstrap.servers", stack.bootstrapServers(), "group.id", "secret-check", "auto.offset.reset", "earliest",
                        "isolation.level", "read_committed"));
                int seen = 0;
                // The shared topic may hold other tests' soft targets: this teacher's is keyed s1.
                try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> c = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                        admin, new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                        new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
                    c.subscribe(List.of(io.streamdistill.schemas.Topics.SOFT_TARGETS));
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                    while (seen == 0 && System.nanoTime() < deadline && teacher.isAlive()) {
                        for (var rec : c.poll(java.time.Duration.ofMillis(500))) {
                            seen += rec.key() != null && new String(rec.key(), StandardCharsets.UTF_8).equals("s1") ? 1 : 0;
                        }
                    }
                }
                assertThat(seen).as(() -> "the teacher works on the secure stack; its log:\n" + readQuietly(log)).isEqualTo(1);
                teacher.destroy();
                teacher.waitFor(60, TimeUnit.SECONDS);
            } finally {
                teacher.destroyForcibly();
            }
            String logs = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(logs).contains("ProducerConfig values").contains("SASL_SSL");
            assertThat(logs).doesNotContain(teacherPassword).doesNotContain(storePassword);
        }
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
