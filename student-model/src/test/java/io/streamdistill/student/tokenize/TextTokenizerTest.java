package io.streamdistill.student.tokenize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextTokenizerTest {

    @Test
    void encodesWithSpecialTokensTruncatesAndPadsBatches() {
        try (TextTokenizer tok = TextTokenizer.load(MiniLmFiles.tokenizer(), "all-MiniLM-L6-v2", 8)) {
            assertThat(tok.vocabSize()).isEqualTo(30522);
            assertThat(tok.id()).startsWith("all-MiniLM-L6-v2@sha256:").hasSize("all-MiniLM-L6-v2@sha256:".length() + 64);
            // bert-base-uncased: [CLS]=101, hello=7592, world=2088, [SEP]=102
            assertThat(tok.encode("Hello world")).containsExactly(101, 7592, 2088, 102);

            String longText = "one two three four five six seven eight nine ten";
            int[] cut = tok.encode(longText);
            assertThat(cut).hasSize(8);
            assertThat(cut[7]).as("still ends with [SEP]").isEqualTo(102);
            assertThat(tok.wouldTruncate(longText)).isTrue();
            assertThat(tok.wouldTruncate("short")).isFalse();

            int[][] batch = tok.encode(List.of("Hello world", "hi"));
            TextTokenizer.PaddedBatch padded = TextTokenizer.pad(batch, 0);
            assertThat(padded.idsRow(1)).containsExactly(101, 7632, 102, 0);
            assertThat(padded.maskRow(1)).containsExactly(1, 1, 1, 0);
            assertThat(padded.shape()).containsExactly(2, 4);
        }
    }

    @Test
    void handlesUnicodeEdgeCasesAndEmptyText() {
        try (TextTokenizer tok = TextTokenizer.load(MiniLmFiles.tokenizer(), "minilm", 64)) {
            assertThat(tok.encode("")).containsExactly(101, 102);
            for (String s : List.of("שלום עולם", "e\u0301te\u0301", "🚀🔥", "a\u0000b\u0007c")) {
                assertThat(tok.encode(s)).startsWith(101).endsWith(102);
            }
        }
    }

    @Test
    void clearErrors() {
        assertThatThrownBy(() -> TextTokenizer.load(Path.of("/nonexistent/tokenizer.json"), "x", 16))
                .hasMessageContaining("/nonexistent/tokenizer.json").hasMessageContaining("does not exist");
        assertThatThrownBy(() -> TextTokenizer.load(MiniLmFiles.tokenizer(), "x", 1)).hasMessageContaining("maxTokens");
    }
}
