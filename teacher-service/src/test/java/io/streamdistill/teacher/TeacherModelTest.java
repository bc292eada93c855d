package io.streamdistill.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import io.streamdistill.records.Task;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TeacherModelTest {
    private static Teacher minilm;

    @BeforeAll
    static void load() {
        minilm = Teacher.load(BuiltInTeachers.ALL_MINILM_L6_V2.descriptor(), 1, Teacher.Device.CPU, 0);
    }

    @AfterAll
    static void close() {
        minilm.close();
    }

    static float cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return (float) (dot / Math.sqrt(na * nb));
    }

    /** Our embeddings equal langchain4j's AllMiniLmL6V2EmbeddingModel's: a peer nobody here wrote. */
    @Test
    void embeddingsEqualLangchain4jsOnTheSameTexts() {
        List<String> texts = List.of("The cat sat on the mat.", "Quarterly revenue rose by 12 percent.",
                "A short one", "Photosynthesis turns light into chemical energy in plants and algae.",
                "Ünïcode, émojis 🚀 and שלום", "x");
        float[][] ours = minilm.embedTexts(texts);
        AllMiniLmL6V2EmbeddingModel peer = new AllMiniLmL6V2EmbeddingModel();
        for (int i = 0; i < texts.size(); i++) {
            Embedding theirs = peer.embed(texts.get(i)).content();
            assertThat(cosine(ours[i], theirs.vector())).as("text %d: %s", i, texts.get(i)).isGreaterThanOrEqualTo(0.9999f);
        }
        assertThat(minilm.task()).isEqualTo(Task.EMBEDDING);
        assertThat(minilm.embeddingDim()).isEqualTo(384);
        assertThat(minilm.ref().getModelId()).isEqualTo("all-MiniLM-L6-v2");
        assertThat(minilm.ref().getSha256()).hasSize(64);
    }

    /** Batching and padding do not change a text's embedding. */
    @Test
    void aTextsEmbeddingDoesNotDependOnItsBatch() {
        float[] alone = minilm.embedTexts(List.of("padding must not leak into the mean"))[0];
        float[] padded = minilm.embedTexts(List.of("padding must not leak into the mean",
                "a much longer neighbour that forces plenty of padding on the first row of this batch"))[0];
        assertThat(cosine(alone, padded)).isGreaterThan(0.99999f);
    }

    @Test
    void prototypeClassificationPicksTheExpectedClassOnClearExamples() {
        Map<String, List<String>> examples = Map.of(
                "food", List.of("I baked fresh bread and a cheese pie", "The soup needs more salt and pepper",
                        "We had pasta with tomato sauce for dinner"),
                "sport", List.of("The striker scored two goals in the final", "She won the marathon in record time",
                        "The tennis match went to a fifth set"),
                "weather", List.of("Heavy rain and strong winds are expected tonight", "It will be sunny and warm tomorrow",
                        "Snow is falling across the northern hills"));
        TeacherDescriptor d = BuiltInTeachers.ALL_MINILM_L6_V2.descriptor()
                .withHead(new TeacherDescriptor.PrototypeSpec(examples, 20f), "minilm-topics");
        try (Teacher t = Teacher.load(d, 1, Teacher.Device.CPU, 0)) {
            assertThat(t.task()).isEqualTo(Task.CLASSIFICATION);
            Map<String, String> clear = Map.of(
                    "A bowl of noodles with roasted vegetables", "food",
                    "The goalkeeper saved a penalty in extra time", "sport",
                    "A thunderstorm warning was issued for the coast", "weather",
                    "Grilled salmon with lemon and rice", "food",
                    "The cyclists raced up the mountain stage", "sport");
            List<String> texts = List.copyOf(clear.keySet());
            float[][] logits = t.infer(t.tokenizer().encode(texts));
            for (int i = 0; i < texts.size(); i++) {
                int best = 0;
                for (int c = 1; c < logits[i].length; c++) {
                    best = logits[i][c] > logits[i][best] ? c : best;
                }
                assertThat(t.classNames().get(best)).as(texts.get(i)).isEqualTo(clear.get(texts.get(i)));
                // Raw logits, not probabilities: scale x cosine, so they do not sum to 1.
                assertThat(logits[i][best]).isGreaterThan(1f);
            }
            assertThat(t.ref().getSha256()).as("the head is part of the fingerprint").isNotEqualTo(minilm.ref().getSha256());
            assertThat(t.encoderSha256()).as("the encoder alone: what a static table depends on").isEqualTo(minilm.encoderSha256());

            // Feature distillation's input: one encoder run gives the logits and the pooled embeddings they came from.
            Teacher.Output both = t.inferWithEmbeddings(t.tokenizer().encode(texts));
            float[][] embeddings = t.embed(t.tokenizer().encode(texts));
            for (int i = 0; i < texts.size(); i++) {
                assertThat(both.outputs()[i]).containsExactly(logits[i]);
                assertThat(both.embeddings()[i]).containsExactly(embeddings[i]);
                assertThat(both.embeddings()[i]).hasSize(384);
            }
            // The head as W e + b: what a warm-started student composes with its map back.
            io.streamdistill.student.init.WarmStart.TeacherHead linear = t.linearHead();
            assertThat(linear.classes()).isEqualTo(t.classNames());
            for (int c = 0; c < linear.classes().size(); c++) {
                double z = linear.bias()[c];
                for (int j = 0; j < 384; j++) {
                    z += linear.weights()[c][j] * embeddings[0][j];
                }
                assertThat(z).isCloseTo(logits[0][c], org.assertj.core.api.Assertions.within(1e-4));
            }
        }
    }

    @Test
    void aLinearHeadFileAndDescriptorErrors(@TempDir Path dir) throws Exception {
        StringBuilder w = new StringBuilder();
        for (int c = 0; c < 2; c++) {
            w.append(c == 0 ? "" : ",").append('[');
            for (int j = 0; j < 384; j++) {
                w.append(j == 0 ? "" : ",").append(c == j ? 1 : 0);
            }
            w.append(']');
        }
        Path head = dir.resolve("head.json");
        Files.writeString(head, "{\"classes\":[\"first\",\"second\"],\"weights\":[" + w + "],\"bias\":[0.5,-0.5]}");
        TeacherDescriptor d = BuiltInTeachers.ALL_MINILM_L6_V2.descriptor().withHead(new TeacherDescriptor.LinearSpec(head), "lin");
        try (Teacher t = Teacher.load(d, 1, Teacher.Device.CPU, 0)) {
            float[] e = minilm.embedTexts(List.of("hello"))[0];
            float[] logits = t.infer(t.tokenizer().encode(List.of("hello")))[0];
            assertThat(logits[0]).isCloseTo(e[0] + 0.5f, org.assertj.core.data.Offset.offset(1e-5f));
            assertThat(logits[1]).isCloseTo(e[1] - 0.5f, org.assertj.core.data.Offset.offset(1e-5f));
        }
        Files.writeString(dir.resolve("bad.json"), "{\"id\":\"x\",\"model\":\"nope.onnx\",\"tokenizer\":\"t.json\",\"maxTokens\":1}");
        assertThatThrownBy(() -> TeacherDescriptor.read(dir.resolve("bad.json"))).hasMessageContaining("teacher.maxTokens");
        Files.writeString(dir.resolve("missing.json"), "{\"id\":\"x\",\"model\":\"nope.onnx\",\"tokenizer\":\"t.json\"}");
        assertThatThrownBy(() -> Teacher.load(TeacherDescriptor.read(dir.resolve("missing.json")), 1, Teacher.Device.CPU, 0))
                .hasMessageContaining("teacher.model").hasMessageContaining("nope.onnx");
    }

    /** Without the CUDA build of ONNX Runtime, asking for CUDA falls back to the CPU instead of failing. */
    @Test
    void cudaFallsBackToCpu() {
        try (Teacher t = Teacher.load(BuiltInTeachers.ALL_MINILM_L6_V2.descriptor(), 1, Teacher.Device.CUDA, 0)) {
            assertThat(t.device()).isEqualTo(Teacher.Device.CPU);
            assertThat(t.embedTexts(List.of("still works"))[0]).hasSize(384);
        }
    }

    @Test
    void bgeSmallInt8IsAvailableWithClsPooling() {
        try (Teacher bge = Teacher.load(BuiltInTeachers.BGE_SMALL_EN_V15_Q.descriptor(), 1, Teacher.Device.CPU, 0)) {
            float[][] v = bge.embedTexts(List.of("a cat", "a kitten", "stock market crash"));
            assertThat(cosine(v[0], v[1])).isGreaterThan(cosine(v[0], v[2]));
        }
    }
}
