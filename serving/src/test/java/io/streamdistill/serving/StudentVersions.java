package io.streamdistill.serving;

import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.Artifact;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.records.Task;
import io.streamdistill.records.TeacherRef;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Rng;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Student versions for tests: seeded random students of {@link ServingTest#CLASSES} exported under a directory, and their records. */
public final class StudentVersions {
    public static final List<String> CLASSES = ServingTest.CLASSES;
    private final Path dir;
    private final TextTokenizer tokenizer;

    public StudentVersions(Path dir, TextTokenizer tokenizer) {
        this.dir = dir;
        this.tokenizer = tokenizer;
    }

    /** A random student (seeded) exported to dir/version/model.onnx; returns its record. */
    public StudentCheckpoint bag(String student, long version, long seed) throws Exception {
        StudentConfig c = StudentConfig.builder().task(io.streamdistill.student.model.Task.CLASSIFICATION)
                .vocabSize(tokenizer.vocabSize()).embeddingDim(8).classNames(CLASSES).seed(seed).build();
        StudentTrainer t = StudentTrainer.create(c, TrainingConfig.defaults());
        Rng rng = new Rng(seed);
        for (float[] p : t.student().parameters()) {
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) (rng.nextGaussian() * 0.7);
            }
        }
        return checkpoint(student, version, OnnxExporter.export(t.student(), new OnnxExporter.Metadata(tokenizer.id(), version)), "test");
    }

    /** Writes {@code bytes} to dir/student/version/model.onnx; returns the record that publishes it. */
    public StudentCheckpoint checkpoint(String student, long version, byte[] bytes, String architecture) throws Exception {
        Path file = dir.resolve(student + "/" + version + "/model.onnx");
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        return StudentCheckpoint.newBuilder().setStudent(student).setVersion(version).setCreatedAt(Instant.now()).setStep(version)
                .setRecordsSeen(version * 100).setTask(Task.CLASSIFICATION).setArchitecture(architecture).setParameters(1)
                .setClassNames(CLASSES).setSources(List.of()).setMetrics(Map.of())
                .setArtifact(Artifact.newBuilder().setUri(file.toUri().toString()).setSha256(Hashing.sha256(bytes))
                        .setBytes(bytes.length).setFormat("onnx").build())
                .setTeacher(TeacherRef.newBuilder().setModelId("t").setSha256("00").setTokenizer("tok").build())
                .setConfigHash("00").build();
    }

    /** Like {@link #bag}, a one-block transformer student of the same classes (another architecture, one signature). */
    public StudentCheckpoint transformer(String student, long version, long seed) throws Exception {
        io.streamdistill.student.transformer.EncoderSpec spec = new io.streamdistill.student.transformer.EncoderSpec(tokenizer.vocabSize(),
                16, 1, 2, 32, 128, 0, 1e-12f, io.streamdistill.student.transformer.EncoderSpec.Pooling.MEAN);
        io.streamdistill.student.transformer.TransformerStudent t = new io.streamdistill.student.transformer.TransformerStudent(
                io.streamdistill.student.model.Task.CLASSIFICATION, CLASSES, CLASSES.size(),
                io.streamdistill.student.transformer.EncoderParams.random(spec, seed)).initHead(seed);
        java.util.Arrays.fill(t.headBias(), 0f);
        t.headBias()[(int) (seed % CLASSES.size())] = 3f; // a student with an opinion, so its answers differ from the bag's
        return checkpoint(student, version, io.streamdistill.student.transformer.TransformerOnnx.export(t,
                new OnnxExporter.Metadata(tokenizer.id(), version)), t.describe());
    }

    public static void publish(SchemaRegistryClient registry, String topic, StudentCheckpoint cp) throws Exception {
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(topic, cp.getStudent().getBytes(StandardCharsets.UTF_8),
                    new AvroSerializer<StudentCheckpoint>(registry).serialize(topic, cp))).get();
        }
    }

}
