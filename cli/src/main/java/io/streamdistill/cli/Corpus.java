package io.streamdistill.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Texts to replay as live traffic, with optional labels, read from a file byte by byte
 * ({@link TextFile}: {@code .jsonl}, {@code .csv} with a {@code text} and an optional {@code label}
 * column, anything else one text per line), and what the file held besides: blank lines and bad
 * lines, each with its line number, byte offset and problem.
 */
public record Corpus(List<Row> rows, String source, TextFile.Contents contents) {
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
            return of(TextFile.parse(in.readAllBytes(), "bundled.csv", "bundled WordNet corpus"), OnBadLine.FAIL);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param flag how messages name the option the file came from ("--corpus", "--texts", ...)
     * @throws IllegalArgumentException when the file is missing or unreadable, holds no texts, or (with
     *                                  {@code fail}) has a bad line: one line naming the file, line, offset and problem
     */
    static Corpus load(Path file, OnBadLine onBadLine, String flag) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(flag + " " + file + " does not exist");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + flag + " " + file + ": " + e.getMessage(), e);
        }
        return of(TextFile.parse(bytes, file.getFileName().toString(), file.toString()), onBadLine);
    }

    /**
     * For a command that only reads texts (sends nothing to Kafka): {@code --on-bad-line skip} or
     * {@code fail}; what was left out is said on standard error.
     */
    static Corpus loadForReading(Path file, String onBadLine, String flag) {
        OnBadLine policy = OnBadLine.parse(onBadLine, false);
        Corpus c = load(file, policy, flag);
        String report = c.badLinesReport(policy);
        if (report != null) {
            System.err.println("streamdistill: " + report);
        }
        return c;
    }

    /** Bytes already read (standard input), one text per line unless the name says otherwise. */
    static Corpus read(byte[] bytes, String name, OnBadLine onBadLine) {
        return of(TextFile.parse(bytes, name, name), onBadLine);
    }

    static Corpus of(TextFile.Contents contents, OnBadLine onBadLine) {
        List<TextFile.Bad> bad = contents.bad();
        if (onBadLine == OnBadLine.FAIL && !bad.isEmpty()) {
            throw new IllegalArgumentException(bad.get(0).describe(contents.source()) + (bad.size() > 1 ? " (and " + (bad.size() - 1)
                    + " more bad line(s); --on-bad-line skip leaves them out)" : ""));
        }
        List<Row> rows = contents.texts().stream().map(t -> new Row(t.text(), t.label())).toList();
        if (rows.isEmpty() && bad.isEmpty()) {
            throw new IllegalArgumentException(contents.source() + " holds no texts" + (contents.physicalLines() == 0 ? " (it is empty)"
                    : " (" + contents.physicalLines() + " blank line(s))"));
        }
        return new Corpus(rows, contents.source(), contents);
    }

    /** One line saying what the file held besides texts (null when nothing else): the first few bad lines by place. */
    String badLinesReport(OnBadLine onBadLine) {
        List<TextFile.Bad> bad = contents.bad();
        if (bad.isEmpty() && contents.blank() == 0) {
            return null;
        }
        StringBuilder s = new StringBuilder(String.format("%s: %d line(s): %d text(s), %d blank, %d bad", source, contents.physicalLines(),
                rows.size(), contents.blank(), bad.size()));
        if (!bad.isEmpty()) {
            s.append(onBadLine == OnBadLine.SEND ? " (sent for the teacher to dead-letter" + (bad.stream().anyMatch(TextFile.Bad::tooLong)
                    ? ", except those too long for a Kafka record, refused" : "") + ")" : " (left out)");
            for (int i = 0; i < Math.min(3, bad.size()); i++) {
                s.append(i == 0 ? ": " : "; ").append(bad.get(i).describe(source));
            }
            if (bad.size() > 3) {
                s.append("; ...");
            }
        }
        return s.toString();
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
