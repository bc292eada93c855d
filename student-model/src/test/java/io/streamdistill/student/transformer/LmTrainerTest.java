package io.streamdistill.student.transformer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.tokenize.ByteTokenizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training a causal LM with Adam: it learns text, and its saved state goes on bit for bit; the byte vocabulary. */
class LmTrainerTest {
    private static final EncoderSpec SPEC = new EncoderSpec(ByteTokenizer.VOCAB, 16, 1, 2, 32, 32, 0, 1e-12f, EncoderSpec.Pooling.MEAN);
    private static final List<String> TEXT = List.of("the cat sat on the mat", "the dog sat on the log", "a cat and a dog");

    private static int[][] batch() {
        return TEXT.stream().map(ByteTokenizer::encode).toArray(int[][]::new);
    }

    @Test
    void itLearnsTextAndASavedStateGoesOnBitForBit() throws Exception {
        LmTrainer trainer = new LmTrainer(EncoderParams.random(SPEC, 3), LmTrainer.Settings.defaults(3e-3f), Gemm.REFERENCE);
        double before = trainer.model().perplexity(batch());
        for (int i = 0; i < 150; i++) {
            trainer.train(batch(), null, 0f);
        }
        double after = trainer.model().perplexity(batch());
        assertThat(before).as("an untrained byte model is near the vocabulary's size").isGreaterThan(100);
        assertThat(after).as("after 150 steps, from %s", before).isLessThan(before / 10);

        ByteArrayOutputStream saved = new ByteArrayOutputStream();
        trainer.writeTo(new DataOutputStream(saved));
        LmTrainer resumed = LmTrainer.readFrom(new DataInputStream(new ByteArrayInputStream(saved.toByteArray())), Gemm.REFERENCE);
        assertThat(resumed.step()).isEqualTo(150);
        for (int i = 0; i < 5; i++) {
            assertThat(resumed.train(batch(), null, 0f)).isEqualTo(trainer.train(batch(), null, 0f));
        }
        trainer.model().params().tensors().forEach((name, t) ->
                assertThat(resumed.model().params().get(name)).as(name).containsExactly(t));

        byte[] other = saved.toByteArray().clone();
        other[3] ^= 1;
        assertThatThrownBy(() -> LmTrainer.readFrom(new DataInputStream(new ByteArrayInputStream(other)), Gemm.REFERENCE))
                .hasMessageContaining("not a language-model trainer state");
    }

    @Test
    void theByteVocabularyRoundTripsAndItsTokenizerJsonGivesTheSameIds(@TempDir Path dir) throws Exception {
        String text = "Grüße, 東京 — ok\ttab";
        int[] ids = ByteTokenizer.encode(text);
        assertThat(ByteTokenizer.decode(ids)).isEqualTo(text);
        assertThat(Arrays.stream(ids).allMatch(i -> i >= 0 && i < 256)).isTrue();
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, ByteTokenizer.tokenizerJson());
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(file).optAddSpecialTokens(false).build()) {
            long[] theirs = hf.encode(text).getIds();
            assertThat(Arrays.stream(theirs).mapToInt(x -> (int) x).toArray()).as("Hugging Face's tokenizer on the written file")
                    .containsExactly(ids);
            assertThat(hf.decode(theirs)).isEqualTo(text);
        }
    }
}
