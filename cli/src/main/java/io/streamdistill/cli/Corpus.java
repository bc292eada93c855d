package io.streamdistill.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Texts to replay as live traffic, with optional labels. Formats by file name: {@code .jsonl}
 * ({@code {"text": ..., "label": ...}} per line), {@code .csv} (a header with a {@code text}
 * column and an optional {@code label} column; RFC 4180 quoting), anything else one text per line.
 */
public record Corpus(List<Row> rows, String source) {
    /** One text and its label, or null when unlabelled. */
    public record Row(String text, String label) {
    }

    public static final String BUNDLED = "corpus/wordnet-4class.csv";

    /** The bundled WordNet corpus (4 classes; 8,000 glosses, a quarter unlabelled). */
    public static Corpus bundled() {
        try (InputStream in = Corpus.class.getClassLoader().getResourceAsStream(BUNDLED)) {
            if (in == null) {
                throw new IllegalStateException(BUNDLED + " is missing from the classpath");
            }
            return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)), "bundled.csv", "bundled WordNet corpus");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Corpus load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--corpus " + file + " does not exist");
        }
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(r, file.getFileName().toString(), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read --corpus " + file + ": " + e.getMessage(), e);
        }
    }

    static Corpus parse(BufferedReader r, String name, String source) throws IOException {
        List<Row> rows = new ArrayList<>();
        String lower = name.toLowerCase();
        if (lower.endsWith(".jsonl") || lower.endsWith(".json")) {
            ObjectMapper json = new ObjectMapper();
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = json.readTree(line);
                if (!node.hasNonNull("text")) {
                    throw new IllegalArgumentException(source + " line " + n + " has no \"text\" field");
                }
                rows.add(new Row(node.get("text").asText(), node.hasNonNull("label") ? node.get("label").asText() : null));
            }
        } else if (lower.endsWith(".csv")) {
            List<List<String>> records = csv(r);
            if (records.isEmpty()) {
                throw new IllegalArgumentException(source + " is empty");
            }
            List<String> header = records.get(0);
            int text = header.indexOf("text");
            int label = header.indexOf("label");
            if (text < 0) {
                throw new IllegalArgumentException(source + " needs a header with a 'text' column, got " + header);
            }
            for (List<String> rec : records.subList(1, records.size())) {
                String l = label >= 0 && label < rec.size() ? rec.get(label) : "";
                rows.add(new Row(rec.get(text), l.isBlank() ? null : l));
            }
        } else {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.isBlank()) {
                    rows.add(new Row(line, null));
                }
            }
        }
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(source + " holds no texts");
        }
        return new Corpus(List.copyOf(rows), source);
    }

    /** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. */
    static List<List<String>> csv(BufferedReader r) throws IOException {
        return csvRecords(r).stream().map(CsvRecord::fields).toList();
    }

    /** A CSV record and the (1-based) line it starts on. */
    record CsvRecord(int line, List<String> fields) {
    }

    static List<CsvRecord> csvRecords(java.io.Reader in) throws IOException {
        BufferedReader r = in instanceof BufferedReader b ? b : new BufferedReader(in);
        List<CsvRecord> out = new ArrayList<>();
        List<String> record = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        int line = 1;
        int start = 1;
        int c;
        while ((c = r.read()) >= 0) {
            char ch = (char) c;
            if (ch == '\n') {
                line++;
            }
            if (quoted) {
                if (ch == '"') {
                    r.mark(1);
                    int next = r.read();
                    if (next == '"') {
                        field.append('"');
                    } else {
                        quoted = false;
                        if (next >= 0) {
                            r.reset();
                        }
                    }
                } else {
                    field.append(ch);
                }
            } else if (ch == '"') {
                quoted = true;
            } else if (ch == ',') {
                record.add(field.toString());
                field.setLength(0);
            } else if (ch == '\n') {
                record.add(field.toString());
                field.setLength(0);
                out.add(new CsvRecord(start, record));
                record = new ArrayList<>();
                start = line;
            } else if (ch != '\r') {
                field.append(ch);
            }
        }
        if (field.length() > 0 || !record.isEmpty()) {
            record.add(field.toString());
            out.add(new CsvRecord(start, record));
        }
        return out;
    }

    /** The distinct labels in order of first appearance. */
    public List<String> labels() {
        Set<String> labels = new LinkedHashSet<>();
        rows.forEach(row -> {
            if (row.label() != null) {
                labels.add(row.label());
            }
        });
        return List.copyOf(labels);
    }
}
