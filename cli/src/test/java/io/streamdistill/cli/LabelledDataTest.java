package io.streamdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A fine-tuning data file is read whole or refused with one line naming the row and the problem. */
class LabelledDataTest {
    static final List<String> CLASSES = List.of("animal", "food");

    private static Path write(Path dir, String name, byte[] bytes) throws Exception {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        return f;
    }

    private static Path write(Path dir, String name, String text) throws Exception {
        return write(dir, name, text.getBytes(StandardCharsets.UTF_8));
    }

    private static String rows(int perClass) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < perClass; i++) {
            s.append("\"a cat, number ").append(i).append("\",animal\n");
            s.append("soup ").append(i).append(",food\n");
        }
        return s.toString();
    }

    @Test
    void readsCsvWithQuotesBomAndCrlfAndJsonl(@TempDir Path dir) throws Exception {
        byte[] body = ("text,label\r\n" + rows(5).replace("\n", "\r\n")).getBytes(StandardCharsets.UTF_8);
        byte[] withBom = new byte[body.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(body, 0, withBom, 3, body.length);
        LabelledData csv = LabelledData.read(write(dir, "d.csv", withBom), CLASSES, 5);
        assertThat(csv.rows()).hasSize(10);
        assertThat(csv.rows().get(0)).isEqualTo(new LabelledData.Row(2, "a cat, number 0", "animal"));
        assertThat(csv.sha256()).hasSize(64);

        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            jsonl.append("{\"text\": \"cat ").append(i).append("\", \"label\": \"animal\"}\n{\"text\": \"rice\", \"label\": \"food\"}\n");
        }
        assertThat(LabelledData.read(write(dir, "d.jsonl", jsonl.toString()), CLASSES, 5).rows()).hasSize(10);
    }

    @Test
    void everyBadFileGetsOneLineNamingTheRow(@TempDir Path dir) throws Exception {
        assertRefused(write(dir, "empty.csv", ""), "is empty");
        assertRefused(write(dir, "header-only.csv", "text,label\n"), "has a header but no rows");
        assertRefused(write(dir, "no-label.csv", "text\na cat\n"), "line 1: the header [text] has no 'label' column");
        assertRefused(write(dir, "unknown.csv", "text,label\n" + rows(5) + "a car,vehicle\n"),
                "line 12: label 'vehicle' is not one of the student's classes [animal, food]");
        assertRefused(write(dir, "too-few.csv", "text,label\na cat,animal\nsoup,food\n" + "a dog,animal\n".repeat(5)),
                "class 'food' has 1 row(s) (line 3); fine-tuning needs at least 5 per class");
        byte[] good = ("text,label\n" + rows(5)).getBytes(StandardCharsets.UTF_8);
        byte[] latin1 = "caf\u00e9,food\n".getBytes(StandardCharsets.ISO_8859_1);
        byte[] mixed = java.util.Arrays.copyOf(good, good.length + latin1.length);
        System.arraycopy(latin1, 0, mixed, good.length, latin1.length);
        assertRefused(write(dir, "latin1.csv", mixed), "line 12 (bytes from offset " + good.length + "): not valid UTF-8");
        assertRefused(write(dir, "fields.csv", "text,label\n" + rows(5) + "a cat,animal,extra\n"),
                "line 12: 3 field(s) where the header has 2");
        assertRefused(write(dir, "no-label-value.csv", "text,label\n" + rows(5) + "a cat,\n"), "line 12: no label");
        assertRefused(write(dir, "broken.jsonl", "{\"text\": \"a cat\", \"label\": \"animal\"}\n{not json\n"), "line 2: not a JSON object");
        assertRefused(write(dir, "data.txt", "a cat\n"), "must be .csv");
        assertRefused(dir.resolve("missing.csv"), "does not exist");
    }

    private static void assertRefused(Path file, String message) {
        assertThatThrownBy(() -> LabelledData.read(file, CLASSES, 5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--data " + file)
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
}
