package io.streamdistill.student.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.student.Hashing;
import io.streamdistill.student.model.Activation;
import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.train.Rng;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The exported ONNX model computes the Java forward pass, for every architecture option. */
class OnnxExportTest {

    static Stream<Arguments> architectures() {
        List<Arguments> cases = new ArrayList<>();
        for (Task task : Task.values()) {
            for (int bigrams : new int[] {0, 101}) {
                cases.add(Arguments.of(task, bigrams, 0, Activation.RELU));
                cases.add(Arguments.of(task, bigrams, 24, Activation.RELU));
                cases.add(Arguments.of(task, bigrams, 24, Activation.TANH));
            }
        }
        return cases.stream();
    }

    private static StudentTrainer randomStudent(Task task, int bigrams, int hidden, Activation act) {
        StudentConfig c = StudentConfig.builder().task(task).vocabSize(1000).embeddingDim(32).bigramBuckets(bigrams)
                .hiddenDim(hidden).activation(act).outputDim(20).classNames(List.of("a", "b", "c", "d", "e"))
                .seed(17).build();
        StudentTrainer trainer = StudentTrainer.create(c, TrainingConfig.defaults());
        Rng rng = new Rng(5);
        for (float[] p : trainer.student().parameters()) {
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) (rng.nextGaussian() * 0.7); // far from the near-uniform initial outputs
            }
        }
        return trainer;
    }

    private static int[][] randomBatch(Rng rng, int batch, int minLen, int maxLen) {
        int[][] ids = new int[batch][];
        for (int b = 0; b < batch; b++) {
            ids[b] = new int[minLen + (int) (rng.nextDouble() * (maxLen - minLen + 1))];
            for (int t = 0; t < ids[b].length; t++) {
                ids[b][t] = (int) (rng.nextDouble() * 1000);
            }
        }
        return ids;
    }

    @ParameterizedTest(name = "{0}, bigrams={1}, hidden={2} {3}")
    @MethodSource("architectures")
    void onnxOutputsEqualTheJavaForwardPass(Task task, int bigrams, int hidden, Activation act) {
        StudentTrainer trainer = randomStudent(task, bigrams, hidden, act);
        byte[] model = OnnxExporter.export(trainer.student(), new OnnxExporter.Metadata("tok@sha256:00", 3));
        Rng rng = new Rng(9);
        List<int[][]> batches = List.of(
                randomBatch(rng, 1, 5, 5),          // batch 1
                randomBatch(rng, 1, 1, 1),          // a single token: no bigram at all
                randomBatch(rng, 4, 2, 30),         // padded rows of very different lengths
                randomBatch(rng, 32, 20, 28));
        try (StudentRunner runner = StudentRunner.fromBytes(model, Hashing.sha256(model), null, 1)) {
            for (int[][] ids : batches) {
                float[][] onnx = runner.scoreIds(ids);
                assertThat(onnx).hasNumberOfRows(ids.length);
                for (int b = 0; b < ids.length; b++) {
                    float[] java = trainer.predict(ids[b]);
                    assertThat(onnx[b]).as("row %d of a batch of %d", b, ids.length)
                            .containsExactly(java, Offset.offset(1e-5f));
                }
            }
            assertThat(runner.metadata())
                    .containsEntry(OnnxExporter.META_TASK, task.name())
                    .containsEntry(OnnxExporter.META_TOKENIZER, "tok@sha256:00")
                    .containsEntry(OnnxExporter.META_VERSION, "3")
                    .containsEntry(OnnxExporter.META_CLASS_NAMES,
                            task == Task.CLASSIFICATION ? "[\"a\",\"b\",\"c\",\"d\",\"e\"]" : "[]");
        }
    }

    /** A model file changed after publication is refused before ONNX Runtime sees it. */
    @Test
    void aTamperedFileFailsTheSha256Check(@TempDir Path dir) throws Exception {
        byte[] model = OnnxExporter.export(randomStudent(Task.CLASSIFICATION, 0, 0, Activation.RELU).student(),
                new OnnxExporter.Metadata("tok", 1));
        String published = Hashing.sha256(model);
        Path file = dir.resolve("model.onnx");
        Files.write(file, model);
        try (StudentRunner ok = StudentRunner.load(file, published, null, 1)) {
            assertThat(ok.sha256()).isEqualTo(published);
        }
        model[model.length - 1] ^= 1;
        Files.write(file, model);
        assertThatThrownBy(() -> StudentRunner.load(file, published, null, 1))
                .isInstanceOf(ArtifactIntegrityException.class)
                .hasMessageContaining(published)
                .hasMessageContaining("altered");
    }

    /** Reading the file back gives the same architecture and parameters: a re-export is byte-identical. */
    @ParameterizedTest(name = "{0}, bigrams={1}, hidden={2} {3}")
    @MethodSource("architectures")
    void importReadsBackTheExportedStudent(Task task, int bigrams, int hidden, Activation act) {
        Student s = randomStudent(task, bigrams, hidden, act).student();
        byte[] model = OnnxExporter.export(s, new OnnxExporter.Metadata("t", 4));
        Student back = OnnxImporter.read(model);
        assertThat(back.config()).isEqualTo(s.config());
        for (int i = 0; i < Student.FEATURE_PROJECTION; i++) {
            assertThat(back.parameters()[i]).as("parameter array %d", i).containsExactly(s.parameters()[i]);
        }
        assertThat(OnnxExporter.export(back, new OnnxExporter.Metadata("t", 4))).isEqualTo(model);
    }

    @Test
    void importRefusesAModelItDidNotExport() {
        assertThatThrownBy(() -> OnnxImporter.read(new byte[] {1, 2, 3, 4, 5}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an ONNX model");
        byte[] model = OnnxExporter.export(randomStudent(Task.CLASSIFICATION, 0, 0, Activation.RELU).student(),
                new OnnxExporter.Metadata("t", 1));
        byte[] foreign = ai.onnx.proto.OnnxMl.ModelProto.newBuilder(parse(model)).clearMetadataProps().build().toByteArray();
        assertThatThrownBy(() -> OnnxImporter.read(foreign))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not exported by StreamDistill");
    }

    private static ai.onnx.proto.OnnxMl.ModelProto parse(byte[] model) {
        try {
            return ai.onnx.proto.OnnxMl.ModelProto.parseFrom(model);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void exportIsDeterministic() {
        Student s = randomStudent(Task.EMBEDDING, 101, 24, Activation.TANH).student();
        assertThat(OnnxExporter.export(s, new OnnxExporter.Metadata("t", 1)))
                .isEqualTo(OnnxExporter.export(s, new OnnxExporter.Metadata("t", 1)));
    }
}
