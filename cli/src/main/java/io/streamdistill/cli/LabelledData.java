package io.streamdistill.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.student.Hashing;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A labelled data file for fine-tuning, read strictly: {@code .csv} with a header naming {@code text}
 * and {@code label} columns, or {@code .jsonl} with {@code text} and {@code label} on every line. Any
 * row that cannot be used stops the command with one line naming the file, the line and the problem:
 * training on part of a dataset the user believes was used whole would be a silent error.
 */
record LabelledData(Path file, String sha256, List<Row> rows) {
    /** A labelled row and the line it starts on. */
    record Row(int line, String text, String label) {
    }

    static LabelledData read(Path file, List<String> classes, int minPerClass) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--data " + file + " does not exist");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read --data " + file + ": " + e.getMessage(), e);
        }
        String text = decode(file, bytes);
        if (text.isBlank()) {
            throw new IllegalArgumentException("--data " + file + " is empty");
        }
        String name = file.getFileName().toString().toLowerCase();
        List<Row> rows;
        if (name.endsWith(".csv")) {
            rows = csv(file, text);
        } else if (name.endsWith(".jsonl")) {
            rows = jsonl(file, text);
        } else {
            throw new IllegalArgumentException("--data " + file + " must be .csv (text,label columns) or .jsonl ({\"text\", \"label\"})");
        }
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("--data " + file + " has a header but no rows");
        }
        Map<String, List<Integer>> lines = new LinkedHashMap<>();
        for (Row r : rows) {
            if (!classes.contains(r.label())) {
                throw new IllegalArgumentException("--data " + file + " line " + r.line() + ": label '" + r.label()
                        + "' is not one of the student's classes " + classes);
            }
            lines.computeIfAbsent(r.label(), l -> new ArrayList<>()).add(r.line());
        }
        lines.forEach((label, at) -> {
            if (at.size() < minPerClass) {
                throw new IllegalArgumentException("--data " + file + ": class '" + label + "' has " + at.size() + " row(s) (line "
                        + at.get(0) + (at.size() > 1 ? ", ..." : "") + "); fine-tuning needs at least " + minPerClass
                        + " per class to train and to test on");
            }
        });
        return new LabelledData(file, Hashing.sha256(bytes), List.copyOf(rows));
    }

    /** Strict UTF-8 (a leading BOM dropped); the first bad byte is reported by line and byte offset. */
    private static String decode(Path file, byte[] bytes) {
        int from = bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB && (bytes[2] & 0xff) == 0xBF ? 3 : 0;
        int line = 1;
        int lineStart = from;
        for (int i = from; i <= bytes.length; i++) {
            if (i == bytes.length || bytes[i] == '\n') {
                try {
                    StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, lineStart, i - lineStart));
                } catch (CharacterCodingException e) {
                    throw new IllegalArgumentException("--data " + file + " line " + line + " (bytes from offset " + lineStart
                            + "): not valid UTF-8");
                }
                line++;
                lineStart = i + 1;
            }
        }
        return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
    }

    private static List<Row> csv(Path file, String text) {
        List<Corpus.CsvRecord> records;
        try {
            records = Corpus.csvRecords(new StringReader(text));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        List<String> header = records.get(0).fields().stream().map(String::trim).toList();
        int textColumn = header.indexOf("text");
        int labelColumn = header.indexOf("label");
        if (textColumn < 0 || labelColumn < 0) {
            throw new IllegalArgumentException("--data " + file + " line 1: the header " + header + " has no '"
                    + (textColumn < 0 ? "text" : "label") + "' column (a CSV needs text and label columns)");
        }
        List<Row> rows = new ArrayList<>();
        for (Corpus.CsvRecord r : records.subList(1, records.size())) {
            if (r.fields().size() == 1 && r.fields().get(0).isBlank()) {
                continue; // a blank line
            }
            if (r.fields().size() != header.size()) {
                throw new IllegalArgumentException("--data " + file + " line " + r.line() + ": " + r.fields().size()
                        + " field(s) where the header has " + header.size());
            }
            rows.add(row(file, r.line(), r.fields().get(textColumn), r.fields().get(labelColumn)));
        }
        return rows;
    }

    private static List<Row> jsonl(Path file, String text) {
        ObjectMapper json = new ObjectMapper();
        List<Row> rows = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = json.readTree(lines[i]);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalArgumentException("--data " + file + " line " + (i + 1) + ": not a JSON object ("
                        + e.getOriginalMessage() + ")");
            }
            if (node == null || !node.isObject() || !node.hasNonNull("text")) {
                throw new IllegalArgumentException("--data " + file + " line " + (i + 1) + ": no \"text\" field");
            }
            rows.add(row(file, i + 1, node.get("text").asText(), node.hasNonNull("label") ? node.get("label").asText() : ""));
        }
        return rows;
    }

    private static Row row(Path file, int line, String text, String label) {
        if (text.isBlank()) {
            throw new IllegalArgumentException("--data " + file + " line " + line + ": the text is empty");
        }
        if (label.isBlank()) {
            throw new IllegalArgumentException("--data " + file + " line " + line + ": no label");
        }
        return new Row(line, text, label.trim());
    }
}
