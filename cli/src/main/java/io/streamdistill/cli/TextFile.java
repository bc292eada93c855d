package io.streamdistill.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A file of texts read as bytes, record by record, so that every line is accounted for: each record
 * is a text (with its label, if any), a blank line, or a bad record with its line number, byte
 * offset, problem and raw bytes. Formats by name: {@code .csv} (a header with a {@code text} column
 * and an optional {@code label} column; RFC 4180 quoting, so one record may span lines),
 * {@code .jsonl} ({@code {"text": ..., "label": ...}} per line), anything else one text per line.
 * A leading byte-order mark is dropped and a CR before each LF too.
 */
final class TextFile {
    /**
     * The largest record a file line may become: a Kafka record value with room for the Avro envelope
     * and key under the broker's default {@code message.max.bytes} (1,048,588) and the producer's
     * {@code max.request.size} (1,048,576).
     */
    static final int MAX_RECORD_BYTES = 1_000_000;
    /** How many bytes of an over-long line are kept, for its report. */
    static final int KEPT_PREFIX = 256;

    enum Problem {
        INVALID_UTF8("is not valid UTF-8"),
        NUL("holds a NUL byte"),
        TOO_LONG("is longer than one Kafka record can carry"),
        FIELD_COUNT("has another number of CSV fields than the header"),
        MALFORMED_JSON("is not a JSON object"),
        NO_TEXT("has no text");

        final String what;

        Problem(String what) {
            this.what = what;
        }
    }

    /** One record of the file, in file order. */
    sealed interface Entry permits Text, Bad {
        int line();

        long offset();
    }

    /** A usable text and its label (null when unlabelled). */
    record Text(int line, long offset, String text, String label) implements Entry {
    }

    /**
     * A record that cannot be a text: its raw bytes (for a {@link Problem#TOO_LONG} one only the first
     * {@link #KEPT_PREFIX}), and its length in bytes.
     */
    record Bad(int line, long offset, Problem problem, String detail, byte[] raw, long length) implements Entry {
        boolean tooLong() {
            return problem == Problem.TOO_LONG;
        }

        /** "FILE line N (byte offset B): problem (detail)". */
        String describe(String source) {
            return source + " line " + line + " (byte offset " + offset + "): " + problem.what + (detail == null ? "" : " (" + detail + ")");
        }
    }

    /**
     * @param physicalLines lines in the file (a CSV record may span several)
     * @param blank         blank lines (and blank records), left out
     */
    record Contents(String source, List<Entry> entries, long physicalLines, long blank) {
        List<Text> texts() {
            return entries.stream().filter(e -> e instanceof Text).map(e -> (Text) e).toList();
        }

        List<Bad> bad() {
            return entries.stream().filter(e -> e instanceof Bad).map(e -> (Bad) e).toList();
        }
    }

    private enum Format { LINES, JSONL, CSV }

    private final String source;
    private final Format format;
    private final List<Entry> entries = new ArrayList<>();
    private long blank;
    private int textColumn = -1;
    private int labelColumn = -1;
    private int headerFields;

    private TextFile(String name, String source) {
        this.source = source;
        String lower = name.toLowerCase();
        this.format = lower.endsWith(".csv") ? Format.CSV : lower.endsWith(".jsonl") || lower.endsWith(".json") ? Format.JSONL : Format.LINES;
    }

    /**
     * @param name   decides the format (its extension)
     * @param source how messages name the file
     * @throws IllegalArgumentException when the file as a whole cannot be read: a CSV without a usable header
     */
    static Contents parse(byte[] bytes, String name, String source) {
        TextFile f = new TextFile(name, source);
        return f.read(bytes);
    }

    private Contents read(byte[] bytes) {
        int start = bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB && (bytes[2] & 0xff) == 0xBF ? 3 : 0;
        long lines = 0;
        // A CSV record in the making: its first line and offset, its bytes so far, and whether a quote is open.
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        int recordLine = 0;
        long recordOffset = 0;
        long recordLength = 0;
        boolean quoted = false;
        int pos = start;
        while (pos < bytes.length) {
            int end = pos;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            lines++;
            int lineEnd = end > pos && bytes[end - 1] == '\r' ? end - 1 : end;
            if (format == Format.CSV) {
                if (recordLength == 0 && !quoted) {
                    recordLine = (int) lines;
                    recordOffset = pos;
                } else {
                    append(record, (byte) '\n', recordLength);
                    recordLength++;
                }
                for (int i = pos; i < lineEnd; i++) {
                    if (bytes[i] == '"') {
                        quoted = !quoted;
                    }
                }
                append(record, bytes, pos, lineEnd - pos, recordLength);
                recordLength += lineEnd - pos;
                if (!quoted) {
                    csvRecord(recordLine, recordOffset, record.toByteArray(), recordLength);
                    record.reset();
                    recordLength = 0;
                }
            } else {
                line((int) lines, pos, bytes, pos, lineEnd);
            }
            pos = end + 1;
        }
        if (format == Format.CSV && (recordLength > 0 || quoted)) {
            // An open quote at the end of the file: what is left is one bad record.
            csvRecord(recordLine, recordOffset, record.toByteArray(), recordLength);
        }
        return new Contents(source, List.copyOf(entries), lines, blank);
    }

    /** Appends while the record is within the limit; past it only the length is counted. */
    private static void append(ByteArrayOutputStream out, byte b, long length) {
        if (length < MAX_RECORD_BYTES + 1L) {
            out.write(b);
        }
    }

    private static void append(ByteArrayOutputStream out, byte[] bytes, int from, int n, long length) {
        long room = MAX_RECORD_BYTES + 1L - length;
        if (room > 0) {
            out.write(bytes, from, (int) Math.min(n, room));
        }
    }

    private void line(int line, long offset, byte[] bytes, int from, int to) {
        int n = to - from;
        byte[] raw = Arrays.copyOfRange(bytes, from, n > MAX_RECORD_BYTES ? from + KEPT_PREFIX : to);
        String text = decoded(line, offset, raw, n);
        if (text == null) {
            return;
        }
        if (format == Format.LINES) {
            entries.add(new Text(line, offset, text, null));
            return;
        }
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (IOException e) {
            entries.add(new Bad(line, offset, Problem.MALFORMED_JSON,
                    e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage(), raw, n));
            return;
        }
        if (node == null || !node.isObject()) {
            entries.add(new Bad(line, offset, Problem.MALFORMED_JSON, null, raw, n));
        } else if (!node.hasNonNull("text") || node.get("text").asText().isBlank()) {
            entries.add(new Bad(line, offset, Problem.NO_TEXT, "no \"text\" field, or an empty one", raw, n));
        } else {
            String label = node.hasNonNull("label") ? node.get("label").asText() : null;
            entries.add(new Text(line, offset, node.get("text").asText(), label == null || label.isBlank() ? null : label));
        }
    }

    private void csvRecord(int line, long offset, byte[] raw, long length) {
        String text = decoded(line, offset, raw, length);
        if (text == null) {
            return;
        }
        List<String> fields;
        try {
            List<Corpus.CsvRecord> parsed = Corpus.csvRecords(new StringReader(text));
            fields = parsed.isEmpty() ? List.of() : parsed.get(0).fields();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        if (textColumn < 0) {
            List<String> header = fields.stream().map(String::trim).toList();
            textColumn = header.indexOf("text");
            labelColumn = header.indexOf("label");
            headerFields = header.size();
            if (textColumn < 0) {
                throw new IllegalArgumentException(source + " line " + line + ": the CSV header " + header + " has no 'text' column");
            }
            return;
        }
        if (fields.size() != headerFields) {
            entries.add(new Bad(line, offset, Problem.FIELD_COUNT, fields.size() + " field(s) where the header has " + headerFields,
                    raw, length));
            return;
        }
        String t = fields.get(textColumn);
        if (t.isBlank()) {
            entries.add(new Bad(line, offset, Problem.NO_TEXT, "the text column is empty", raw, length));
            return;
        }
        String label = labelColumn >= 0 ? fields.get(labelColumn) : "";
        entries.add(new Text(line, offset, t, label.isBlank() ? null : label));
    }

    /**
     * A record's text, or null when it is not one: too long, a NUL, not UTF-8 (recorded as bad) or
     * blank (counted). A CSV header that is not text fails the whole file.
     *
     * @param raw the record's bytes (for one too long, at least its first {@link #KEPT_PREFIX})
     */
    private String decoded(int line, long offset, byte[] raw, long length) {
        if (length > MAX_RECORD_BYTES) {
            entries.add(new Bad(line, offset, Problem.TOO_LONG, length + " bytes, over " + MAX_RECORD_BYTES,
                    Arrays.copyOf(raw, Math.min(raw.length, KEPT_PREFIX)), length));
            return null;
        }
        Bad bad = check(line, offset, raw, length);
        if (bad != null) {
            if (format == Format.CSV && textColumn < 0) {
                throw new IllegalArgumentException(bad.describe(source) + ": the header must name a 'text' column");
            }
            entries.add(bad);
            return null;
        }
        String text = new String(raw, StandardCharsets.UTF_8);
        if (text.isBlank()) {
            blank++;
            return null;
        }
        return text;
    }

    /** The byte-level problems any record may have: a NUL, or bytes that are not UTF-8. */
    private static Bad check(int line, long offset, byte[] raw, long length) {
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == 0) {
                return new Bad(line, offset, Problem.NUL, "at byte " + (offset + i), raw, length);
            }
        }
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw));
        } catch (CharacterCodingException e) {
            return new Bad(line, offset, Problem.INVALID_UTF8, null, raw, length);
        }
        return null;
    }

    private static final ObjectMapper JSON = new ObjectMapper();
}
