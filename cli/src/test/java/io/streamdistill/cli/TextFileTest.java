package io.streamdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every line of a file is a text, a blank, or a bad line with its line number, byte offset and problem. */
class TextFileTest {

    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            byte[] b = p instanceof byte[] raw ? raw : p.toString().getBytes(StandardCharsets.UTF_8);
            out.write(b, 0, b.length);
        }
        return out.toByteArray();
    }

    @Test
    void plainLinesWithEveryKindOfBadLine() {
        byte[] latin1 = "caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1);
        String megabyte = "a".repeat(1_000_000);
        String tooLong = "b".repeat(TextFile.MAX_RECORD_BYTES + 1);
        byte[] file = bytes(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, "first\r\n", latin1, "nul\u0000inside\n", "\n",
                megabyte, "\n", tooLong, "\n", "last line without a newline");
        TextFile.Contents c = TextFile.parse(file, "texts.txt", "texts.txt");

        assertThat(c.physicalLines()).isEqualTo(7);
        assertThat(c.blank()).isEqualTo(1);
        List<TextFile.Text> texts = c.texts();
        assertThat(texts).extracting(TextFile.Text::line).containsExactly(1, 5, 7);
        assertThat(texts.get(0).text()).as("BOM and CR dropped").isEqualTo("first");
        assertThat(texts.get(1).text()).as("a 1 MB line is a text").hasSize(1_000_000);
        assertThat(texts.get(2).text()).isEqualTo("last line without a newline");

        List<TextFile.Bad> bad = c.bad();
        assertThat(bad).extracting(TextFile.Bad::line).containsExactly(2, 3, 6);
        assertThat(bad).extracting(TextFile.Bad::problem).containsExactly(TextFile.Problem.INVALID_UTF8, TextFile.Problem.NUL,
                TextFile.Problem.TOO_LONG);
        assertThat(bad.get(0).offset()).isEqualTo(3 + "first\r\n".length());
        assertThat(bad.get(0).raw()).isEqualTo("caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(bad.get(0).describe("texts.txt")).isEqualTo("texts.txt line 2 (byte offset 10): is not valid UTF-8");
        assertThat(bad.get(1).describe("texts.txt")).isEqualTo("texts.txt line 3 (byte offset 15): holds a NUL byte (at byte 18)");
        assertThat(bad.get(2).length()).isEqualTo(TextFile.MAX_RECORD_BYTES + 1);
        assertThat(bad.get(2).raw()).as("only a prefix of an over-long line is kept").hasSize(TextFile.KEPT_PREFIX);
        assertThat(c.entries()).as("in file order").extracting(TextFile.Entry::line).containsExactly(1, 2, 3, 5, 6, 7);
    }

    @Test
    void csvRecordsKeepTheLineTheyStartOn() {
        byte[] file = bytes("text,label\n", "\"a cat,\nwith a line break\",animal\n", "soup,food,extra\n", "\"\",food\n",
                "rice,food\r\n", "\"never closed,food\n");
        TextFile.Contents c = TextFile.parse(file, "d.csv", "d.csv");
        assertThat(c.texts()).extracting(TextFile.Text::line, TextFile.Text::text, TextFile.Text::label)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(2, "a cat,\nwith a line break", "animal"),
                        org.assertj.core.groups.Tuple.tuple(6, "rice", "food"));
        assertThat(c.bad()).extracting(TextFile.Bad::line, TextFile.Bad::problem).containsExactly(
                org.assertj.core.groups.Tuple.tuple(4, TextFile.Problem.FIELD_COUNT),
                org.assertj.core.groups.Tuple.tuple(5, TextFile.Problem.NO_TEXT),
                org.assertj.core.groups.Tuple.tuple(7, TextFile.Problem.FIELD_COUNT));
        assertThat(c.bad().get(0).describe("d.csv")).isEqualTo("d.csv line 4 (byte offset 45): has another number of CSV fields than"
                + " the header (3 field(s) where the header has 2)");
        assertThatThrownBy(() -> TextFile.parse(bytes("words\nhello\n"), "x.csv", "x.csv"))
                .hasMessage("x.csv line 1: the CSV header [words] has no 'text' column");
    }

    @Test
    void jsonLinesAndEmptyFiles() {
        TextFile.Contents c = TextFile.parse(bytes("{\"text\": \"a cat\", \"label\": \"animal\"}\n", "{broken\n", "[1, 2]\n",
                "{\"label\": \"food\"}\n"), "d.jsonl", "d.jsonl");
        assertThat(c.texts()).extracting(TextFile.Text::label).containsExactly("animal");
        assertThat(c.bad()).extracting(TextFile.Bad::problem).containsExactly(TextFile.Problem.MALFORMED_JSON,
                TextFile.Problem.MALFORMED_JSON, TextFile.Problem.NO_TEXT);
        assertThat(TextFile.parse(new byte[0], "e.txt", "e.txt").physicalLines()).isZero();
        assertThatThrownBy(() -> Corpus.read(new byte[0], "e.txt", OnBadLine.SEND)).hasMessage("e.txt holds no texts (it is empty)");
        assertThatThrownBy(() -> Corpus.read(bytes("ok\n", new byte[] {(byte) 0xFF}, "\n"), "f.txt", OnBadLine.FAIL))
                .hasMessage("f.txt line 2 (byte offset 3): is not valid UTF-8");
        assertThatThrownBy(() -> OnBadLine.parse("send", false)).hasMessageContaining("skip or fail (this command sends nothing to Kafka)");
    }
}
