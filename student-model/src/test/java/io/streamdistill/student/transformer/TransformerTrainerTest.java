package io.streamdistill.student.transformer;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.MiniLmFiles;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Rng;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The transformer student trains, keeps its state exactly, and runs in ONNX Runtime as it does in Java. */
class TransformerTrainerTest {
    private static final int A = 2;
    private static final int B = 3;
    private static final int LENGTH = 8;

    /**
     * A teacher that answers whether token A comes before token B: the same words in another order get the
     * other class, which no bag of words can tell apart.
     */
    private static List<Example> wordOrder(int n, long seed) {
        Rng rng = new Rng(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] ids = new int[LENGTH];
            for (int t = 0; t < LENGTH; t++) {
                ids[t] = 4 + (int) Math.floorMod(rng.nextLong(), 20L);
            }
            int a = (int) Math.floorMod(rng.nextLong(), (long) LENGTH);
            int b = (a + 1 + (int) Math.floorMod(rng.nextLong(), (long) LENGTH - 1)) % LENGTH;
            ids[a] = A;
            ids[b] = B;
            out.add(Example.unlabelled(ids, a < b ? new float[] {4f, -4f} : new float[] {-4f, 4f}));
        }
        return out;
    }

    private static TransformerTrainer tinyTransformer(Task task, int outputs, List<String> classes, long seed) {
        return tinyTransformer(task, outputs, classes, seed, false);
    }

    private static TransformerTrainer tinyTransformer(Task task, int outputs, List<String> classes, long seed, boolean unitPooled) {
        EncoderSpec spec = new EncoderSpec(24, 16, 2, 2, 32, LENGTH, 0, 1e-12f, EncoderSpec.Pooling.MEAN);
        TransformerStudent student = new TransformerStudent(task, classes, outputs, EncoderParams.random(spec, seed), unitPooled)
                .initHead(seed + 1);
        return new TransformerTrainer(student, TrainingConfig.builder().learningRate(3e-3f).warmupSteps(20).build(), Gemm.REFERENCE);
    }

    private static double agreement(java.util.function.Function<Example, Float> score, List<Example> test) {
        double sum = 0;
        for (Example e : test) {
            sum += score.apply(e);
        }
        return sum / test.size();
    }

    @Test
    void aTransformerLearnsWordOrderThatABagCannot() {
        List<Example> train = wordOrder(12_800, 1);
        List<Example> test = wordOrder(400, 2);
        TransformerTrainer transformer = tinyTransformer(Task.CLASSIFICATION, 2, List.of("ab", "ba"), 3);
        StudentTrainer bag = StudentTrainer.create(StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(24).embeddingDim(16)
                .hiddenDim(32).classNames(List.of("ab", "ba")).seed(3).build(), TrainingConfig.builder().learningRate(3e-3f).build());
        for (int from = 0; from < train.size(); from += 32) {
            List<Example> batch = train.subList(from, from + 32);
            transformer.train(batch);
            bag.train(batch);
        }
        double contextual = agreement(e -> transformer.evaluate(e).agreement(), test);
        double bagOfWords = agreement(e -> bag.evaluate(e).agreement(), test);
        System.out.printf("word order, 400 held-out texts: transformer agreement %.3f, bag %.3f%n", contextual, bagOfWords);
        assertThat(bagOfWords).as("a bag sees the same words either way").isLessThan(0.65);
        assertThat(contextual).as("the transformer sees their order").isGreaterThan(0.9);
    }

    /** A head on the unit pooled vector (a teacher's head's place) learns as well: its gradient goes through the normalisation. */
    @Test
    void aHeadOnTheUnitPooledVectorLearnsToo() {
        List<Example> train = wordOrder(9_600, 11);
        List<Example> test = wordOrder(400, 12);
        TransformerTrainer t = tinyTransformer(Task.CLASSIFICATION, 2, List.of("ab", "ba"), 13, true);
        for (int from = 0; from < train.size(); from += 32) {
            t.train(train.subList(from, from + 32));
        }
        double agreement = agreement(e -> t.evaluate(e).agreement(), test);
        System.out.printf("word order, unit pooled head: agreement %.3f%n", agreement);
        assertThat(agreement).isGreaterThan(0.9);
        assertThat(t.student().unitPooled()).isTrue();
    }

    @Test
    void itsStateRoundTripsAndTrainingGoesOnBitForBit() throws Exception {
        List<Example> data = wordOrder(320, 4);
        TransformerTrainer a = tinyTransformer(Task.CLASSIFICATION, 2, List.of("ab", "ba"), 5);
        for (int from = 0; from < 160; from += 32) {
            a.train(data.subList(from, from + 32));
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        a.writeTo(bytes);
        TransformerTrainer b = TransformerTrainer.readFrom(new ByteArrayInputStream(bytes.toByteArray()), Gemm.REFERENCE);
        assertThat(b.step()).isEqualTo(a.step());
        for (int from = 160; from < 320; from += 32) {
            a.train(data.subList(from, from + 32));
            b.train(data.subList(from, from + 32));
        }
        List<float[]> ta = a.tensors();
        List<float[]> tb = b.tensors();
        for (int i = 0; i < ta.size(); i++) {
            assertThat(tb.get(i)).as("tensor %d", i).isEqualTo(ta.get(i));
        }
    }

    @Test
    void theExportedFileRunsInOnnxRuntimeAsTheJavaStudentDoes() throws Exception {
        TextTokenizer tokenizer = TextTokenizer.load(MiniLmFiles.tokenizer(), "all-MiniLM-L6-v2", 128);
        int[][] ids = tokenizer.encode(List.of("a small furry animal that eats plants", "ok", "the spring meeting was postponed"));
        EncoderParams teacherBlocks = BertOnnxWeights.read(MiniLmFiles.model()).take(EncoderSpec.Pooling.MEAN, 1);
        for (Task task : Task.values()) {
            int outputs = task == Task.CLASSIFICATION ? 3 : 24;
            // The classification head reads the unit pooled vector (a teacher's head's place), the embedding head the raw one.
            TransformerStudent student = new TransformerStudent(task, task == Task.CLASSIFICATION ? List.of("x", "y", "z") : List.of(),
                    outputs, teacherBlocks, task == Task.CLASSIFICATION).initHead(7);
            TransformerTrainer trainer = new TransformerTrainer(student, TrainingConfig.defaults(), Gemm.REFERENCE);
            float[][] java = trainer.predict(ids);
            byte[] onnx = TransformerOnnx.export(student, new OnnxExporter.Metadata(tokenizer.id(), 1));
            try (StudentRunner runner = StudentRunner.fromBytes(onnx, "test", tokenizer, 1)) {
                float[][] ort = runner.scoreIds(ids);
                for (int s = 0; s < ids.length; s++) {
                    for (int j = 0; j < outputs; j++) {
                        assertThat((double) ort[s][j]).as("%s text %d output %d", task, s, j)
                                .isCloseTo(java[s][j], org.assertj.core.data.Offset.offset(1e-4));
                    }
                }
                assertThat(runner.metadata()).containsEntry(OnnxExporter.META_TASK, task.name())
                        .containsEntry(TransformerOnnx.META_ARCH, "transformer");
            }
            // Read back as finetune reads a published version: the same student, fresh optimiser state.
            io.streamdistill.student.train.Learner back = io.streamdistill.student.onnx.OnnxImporter.readLearner(onnx,
                    TrainingConfig.defaults(), Gemm.REFERENCE);
            assertThat(back).isInstanceOf(TransformerTrainer.class);
            assertThat(back.describe()).isEqualTo(trainer.describe());
            assertThat(back.classNames()).isEqualTo(trainer.classNames());
            assertThat(back.step()).isZero();
            float[][] again = ((TransformerTrainer) back).predict(ids);
            for (int s = 0; s < ids.length; s++) {
                assertThat(again[s]).as("%s text %d read back", task, s).containsExactly(java[s]);
            }
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.streamdistill.student.onnx.OnnxImporter.read(onnx))
                    .as("the bag reader says what to use").hasMessageContaining("transformer student").hasMessageContaining("readLearner");
        }
    }

    @Test
    void aFileWithoutItsShapeOrWithAWrongTensorIsRefusedWithTheReason() {
        TransformerTrainer t = tinyTransformer(Task.CLASSIFICATION, 2, List.of("a", "b"), 3);
        ai.onnx.proto.OnnxMl.ModelProto model;
        try {
            model = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(t.exportOnnx(new OnnxExporter.Metadata("tok", 1)));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
        ai.onnx.proto.OnnxMl.ModelProto.Builder older = model.toBuilder().clearMetadataProps();
        model.getMetadataPropsList().stream().filter(p -> !p.getKey().equals(TransformerOnnx.META_TRANSFORMER))
                .forEach(older::addMetadataProps);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.streamdistill.student.onnx.OnnxImporter.readLearner(
                        older.build().toByteArray(), TrainingConfig.defaults(), Gemm.REFERENCE))
                .hasMessageContaining("exported before").hasMessageContaining(TransformerOnnx.META_TRANSFORMER);
        ai.onnx.proto.OnnxMl.ModelProto.Builder cut = model.toBuilder();
        for (int i = 0; i < cut.getGraph().getInitializerCount(); i++) {
            if (cut.getGraph().getInitializer(i).getName().equals("head.bias")) {
                cut.getGraphBuilder().setInitializer(i, cut.getGraph().getInitializer(i).toBuilder()
                        .setRawData(com.google.protobuf.ByteString.copyFrom(new byte[4])));
            }
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.streamdistill.student.onnx.OnnxImporter.readLearner(
                        cut.build().toByteArray(), TrainingConfig.defaults(), Gemm.REFERENCE))
                .hasMessageContaining("tensor 'head.bias' holds 1 values where the architecture implies 2");
    }

    @Test
    void anEmbeddingStudentMovesTowardsItsTeacher() {
        List<Example> data = new ArrayList<>();
        Rng rng = new Rng(8);
        float[][] targets = new float[24][6];
        for (float[] t : targets) {
            for (int j = 0; j < t.length; j++) {
                t[j] = (float) rng.nextGaussian();
            }
        }
        for (Example e : wordOrder(3200, 9)) {
            // The teacher's embedding: the vector of the sequence's first word, a position-dependent target.
            data.add(Example.unlabelled(e.tokenIds(), targets[e.tokenIds()[0]]));
        }
        TransformerTrainer t = tinyTransformer(Task.EMBEDDING, 6, List.of(), 10);
        double before = agreement(e -> t.evaluate(e).agreement(), data.subList(0, 200));
        for (int from = 0; from < data.size(); from += 32) {
            t.train(data.subList(from, from + 32));
        }
        double after = agreement(e -> t.evaluate(e).agreement(), data.subList(0, 200));
        System.out.printf("embedding student: mean cosine %.3f before, %.3f after%n", before, after);
        assertThat(after).isGreaterThan(before + 0.3);
    }
}
