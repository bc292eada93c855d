package io.streamdistill.teacher.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.Artifact;
import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.records.Task;
import io.streamdistill.records.TeacherRef;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Rng;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import io.streamdistill.teacher.service.Metrics;
import io.streamdistill.teacher.service.TeacherConfig;
import io.streamdistill.teacher.service.TeacherService;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The teacher service with adaptive sampling on, following a real published student, on the embedded stack. */
class AdaptiveSamplingServiceTest {
    static final List<String> CLASSES = List.of("animal", "food");

    /**
     * With sampling on, every input id is accounted for exactly once: a soft target (carrying why it
     * was sampled), a dead letter, or a counted skip (recorded on the skips topic); some records are
     * skipped, the random share is sampled, and the counts in the metrics match.
     */
    @Test
    void everyInputIdIsASoftTargetADeadLetterOrACountedSkip(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("sampling-text", 2);
        String out = SharedLocalStack.newTopic("sampling-soft", 1);
        String dead = SharedLocalStack.newTopic("sampling-dead", 1);
        String skips = SharedLocalStack.newTopic("sampling-skips", 1);
        String checkpoints = SharedLocalStack.newTopic("sampling-checkpoints", 1);
        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build());
        publishStudent(dir, checkpoints, registry);

        Map<String, String> settings = new HashMap<>(Map.of(
                "bootstrap.servers", SharedLocalStack.get().bootstrapServers(), "schema.registry.url", SharedLocalStack.get().registryUrl(),
                "input.topic", in, "output.topic", out, "dead.letter.topic", dead, "group.id", "sampling-test",
                "transactional.id", "sampling-test", "http.port", "-1"));
        settings.putAll(Map.of("sampling.enabled", "true", "sampling.student", "s", "sampling.checkpoints.topic", checkpoints,
                "sampling.skips.topic", skips, "poll.max.records", "50"));
        // This untrained student agrees about half the time, so the default factor would (rightly) send
        // everything; a fixed least-sure share leaves skips to account for.
        settings.put("sampling.uncertain.factor", "0");
        Metrics metrics = new Metrics();
        TeacherDescriptor d = BuiltInTeachers.ALL_MINILM_L6_V2.descriptor().withHead(new TeacherDescriptor.PrototypeSpec(Map.of(
                "animal", List.of("a small furry animal", "a bird that sings", "a large wild cat"),
                "food", List.of("bread with butter", "a bowl of soup", "sweet baked dessert")), 20f), "sampling-proto");
        int n = 400;
        try (Teacher teacher = Teacher.load(d, 1, Teacher.Device.CPU, 0);
             TeacherService service = new TeacherService(TeacherConfig.of(settings), teacher, metrics)) {
            Thread loop = new Thread(service, "sampling-loop");
            loop.start();
            Thread.sleep(4000); // the follower reads the checkpoint and loads the student
            List<String> words = List.of("cat", "soup", "eagle", "bread", "dog", "stew", "horse", "cake", "mouse", "rice");
            try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers()),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < n; i++) {
                    byte[] value = i % 97 == 5 ? new byte[] {(byte) 0xff} // a few bad records: dead letters
                            : ("a sentence about a " + words.get(i % words.size()) + " number " + i).getBytes(StandardCharsets.UTF_8);
                    p.send(new ProducerRecord<>(in, ("id-" + i).getBytes(StandardCharsets.UTF_8), value));
                }
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (metrics.softTargets() + metrics.deadLetters() + metrics.skipped() < n && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
        }

        AvroDeserializer<SoftTarget> st = new AvroDeserializer<>(registry, SoftTarget.class);
        AvroDeserializer<DeadLetter> dl = new AvroDeserializer<>(registry, DeadLetter.class);
        List<String> ids = new ArrayList<>();
        Map<String, Integer> reasons = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : read(out)) {
            SoftTarget s = st.deserialize(out, r.value());
            ids.add(s.getId());
            assertThat(s.getSampling()).as("every soft target says why it was sampled").isNotNull();
            reasons.merge(s.getSampling().getReason(), 1, Integer::sum);
            double inclusion = s.getSampling().getInclusionProbability();
            if (s.getSampling().getReason().equals("EXPLORATION")) {
                assertThat(inclusion).as("explored: a rule would have sent it (1) or only the draw could (0.05)").isIn(1.0, 0.05);
            } else {
                assertThat(inclusion).as("sent by a rule: %s", s.getSampling().getReason()).isEqualTo(1.0);
            }
        }
        for (ConsumerRecord<byte[], byte[]> r : read(dead)) {
            ids.add(StandardCharsets.UTF_8.decode(dl.deserialize(dead, r.value()).getOriginalKey()).toString());
        }
        int skipped = 0;
        for (ConsumerRecord<byte[], byte[]> r : read(skips)) {
            ids.add(new String(r.key(), StandardCharsets.UTF_8));
            skipped++;
        }
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < n; i++) {
            expected.add("id-" + i);
        }
        assertThat(ids).as("each input id exactly once across soft targets, dead letters and skips")
                .hasSize(n).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(skipped).as("a sure student saves teacher runs").isPositive();
        assertThat(metrics.skipped()).isEqualTo(skipped);
        assertThat(reasons).containsKey("EXPLORATION");
        assertThat(reasons.keySet()).allMatch(r -> SamplingPolicy.Reason.valueOf(r).runsTeacher);
        assertThat(metrics.prometheus(true)).contains("streamdistill_teacher_skipped_total{reason=\"CONFIDENT\"}")
                .contains("streamdistill_teacher_sampled_total{reason=\"EXPLORATION\"}");
    }

    static void publishStudent(Path dir, String topic, SchemaRegistryClient registry) throws Exception {
        try (TextTokenizer tokenizer = StudentTokenizers.load("all-MiniLM-L6-v2", 128)) {
            StudentConfig c = StudentConfig.builder().task(io.streamdistill.student.model.Task.CLASSIFICATION)
                    .vocabSize(tokenizer.vocabSize()).embeddingDim(8).classNames(CLASSES).seed(5).build();
            StudentTrainer t = StudentTrainer.create(c, TrainingConfig.defaults());
            Rng rng = new Rng(5);
            for (float[] p : t.student().parameters()) {
                for (int i = 0; i < p.length; i++) {
                    p[i] = (float) (rng.nextGaussian() * 1.5); // far from uniform: mostly sure outputs
                }
            }
            byte[] bytes = OnnxExporter.export(t.student(), new OnnxExporter.Metadata(tokenizer.id(), 1));
            Path file = dir.resolve("s/1/model.onnx");
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
            StudentCheckpoint cp = StudentCheckpoint.newBuilder().setStudent("s").setVersion(1).setCreatedAt(Instant.now()).setStep(1)
                    .setRecordsSeen(100).setTask(Task.CLASSIFICATION).setArchitecture("test").setParameters(1).setClassNames(CLASSES)
                    .setSources(List.of()).setMetrics(Map.of("holdout_agreement", 0.5))
                    .setArtifact(Artifact.newBuilder().setUri(file.toUri().toString()).setSha256(Hashing.sha256(bytes))
                            .setBytes(bytes.length).setFormat("onnx").build())
                    .setTeacher(TeacherRef.newBuilder().setModelId("t").setSha256("00").setTokenizer("tok").build())
                    .setConfigHash("00").build();
            try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers()),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                p.send(new ProducerRecord<>(topic, "s".getBytes(StandardCharsets.UTF_8),
                        new AvroSerializer<StudentCheckpoint>(registry).serialize(topic, cp))).get();
            }
        }
    }

    static List<ConsumerRecord<byte[], byte[]>> read(String topic) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                "group.id", "verify-" + System.nanoTime(), "auto.offset.reset", "earliest", "isolation.level", "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
