package io.streamdistill.teacher.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.BadLineHeaders;
import io.streamdistill.schemas.registry.RegistryAuthException;
import io.streamdistill.schemas.registry.RegistryServerException;
import io.streamdistill.schemas.registry.RegistryUnavailableException;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.SerdeException;
import io.streamdistill.schemas.serde.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * Turns the bytes of a record on the text topic into a {@link TextEvent}, or says exactly why it
 * cannot: every failure carries a reason code and a message for the dead-letter record. Registry
 * outages are not the record's fault: they are rethrown so the transaction is retried.
 */
final class InputDecoder {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Either an event or a failure. */
    record Decoded(TextEvent event, boolean truncated, String stage, String reason, String message) {
        static Decoded ok(TextEvent e, boolean truncated) {
            return new Decoded(e, truncated, null, null, null);
        }

        static Decoded fail(String stage, String reason, String message) {
            return new Decoded(null, false, stage, reason, message);
        }

        boolean failed() {
            return event == null;
        }
    }

    private final TeacherConfig.InputFormat format;
    private final AvroDeserializer<TextEvent> avro;
    private final int maxChars;
    private final TeacherConfig.Oversize oversize;

    InputDecoder(TeacherConfig.InputFormat format, AvroDeserializer<TextEvent> avro, int maxChars,
                 TeacherConfig.Oversize oversize) {
        this.format = format;
        this.avro = avro;
        this.maxChars = maxChars;
        this.oversize = oversize;
    }

    Decoded decode(ConsumerRecord<byte[], byte[]> r) {
        byte[] v = r.value();
        String where = r.topic() + "/" + r.partition() + "@" + r.offset();
        if (v == null) {
            return Decoded.fail("deserialize", "NULL_VALUE", "record at " + where + " has no value (a tombstone?)");
        }
        Header bad = r.headers() == null ? null : r.headers().lastHeader(BadLineHeaders.PROBLEM);
        if (bad != null) {
            // A file line its reader could not make a text of, sent so that it is accounted for.
            Header place = r.headers().lastHeader(BadLineHeaders.WHERE);
            return Decoded.fail("file", new String(bad.value(), StandardCharsets.UTF_8), "record at " + where + " is a bad file line: "
                    + (place == null ? "(no place given)" : new String(place.value(), StandardCharsets.UTF_8)));
        }
        TeacherConfig.InputFormat f = format == TeacherConfig.InputFormat.AUTO ? sniff(v) : format;
        Decoded d = switch (f) {
            case AVRO -> avro(r, where);
            case JSON -> json(r, where);
            default -> text(r, where);
        };
        return d.failed() ? d : validate(d.event(), where);
    }

    private static TeacherConfig.InputFormat sniff(byte[] v) {
        // Byte 0 is the registry framing; bytes 1-8 are control characters no text starts with, but a
        // framing with another magic byte (another serde's) does: the Avro path names it WRONG_MAGIC_BYTE.
        if (v.length > 0 && v[0] >= WireFormat.MAGIC_BYTE && v[0] < '\t') {
            return TeacherConfig.InputFormat.AVRO;
        }
        for (byte b : v) {
            if (b == '{') {
                return TeacherConfig.InputFormat.JSON;
            }
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                break;
            }
        }
        return TeacherConfig.InputFormat.TEXT;
    }

    private Decoded avro(ConsumerRecord<byte[], byte[]> r, String where) {
        try {
            TextEvent e = avro.deserialize(r.topic(), r.value(), where);
            return Decoded.ok(e, false);
        } catch (RegistryUnavailableException | RegistryServerException | RegistryAuthException outage) {
            throw outage;
        } catch (SerdeException e) {
            return Decoded.fail("deserialize", e.reason(), e.getMessage());
        }
    }

    private Decoded json(ConsumerRecord<byte[], byte[]> r, String where) {
        String body;
        try {
            body = strictUtf8(r.value());
        } catch (CharacterCodingException e) {
            return Decoded.fail("deserialize", "INVALID_UTF8", "record at " + where + " is not valid UTF-8: " + e.getMessage());
        }
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            return Decoded.fail("deserialize", "MALFORMED_JSON", "record at " + where + " is not valid JSON: "
                    + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            return Decoded.fail("deserialize", "MALFORMED_JSON", "record at " + where + " is JSON but not an object");
        }
        JsonNode text = root.get("text");
        if (text == null || !text.isTextual()) {
            return Decoded.fail("validate", "MISSING_FIELD", "JSON record at " + where + " has no string field 'text'");
        }
        Map<String, String> attributes = new HashMap<>();
        root.path("attributes").fields().forEachRemaining(e -> attributes.put(e.getKey(), e.getValue().asText()));
        Instant eventTime;
        JsonNode t = root.get("eventTime");
        try {
            eventTime = t == null || t.isNull() ? Instant.ofEpochMilli(r.timestamp())
                    : t.isNumber() ? Instant.ofEpochMilli(t.asLong()) : Instant.parse(t.asText());
        } catch (DateTimeParseException e) {
            return Decoded.fail("validate", "BAD_FIELD", "JSON record at " + where + " has eventTime '" + t.asText()
                    + "', neither epoch milliseconds nor an ISO-8601 instant");
        }
        String id = root.hasNonNull("id") ? root.get("id").asText() : fallbackId(r);
        return Decoded.ok(TextEvent.newBuilder().setId(id).setText(text.asText())
                .setLabel(root.hasNonNull("label") ? root.get("label").asText() : null)
                .setSource(root.hasNonNull("source") ? root.get("source").asText() : null)
                .setEventTime(eventTime).setAttributes(attributes).build(), false);
    }

    private Decoded text(ConsumerRecord<byte[], byte[]> r, String where) {
        String text;
        try {
            text = strictUtf8(r.value());
        } catch (CharacterCodingException e) {
            return Decoded.fail("deserialize", "INVALID_UTF8", "record at " + where + " is not valid UTF-8 text: " + e.getMessage());
        }
        return Decoded.ok(TextEvent.newBuilder().setId(fallbackId(r)).setText(text).setLabel(null).setSource(null)
                .setEventTime(Instant.ofEpochMilli(Math.max(0, r.timestamp()))).setAttributes(Map.of()).build(), false);
    }

    private Decoded validate(TextEvent e, String where) {
        String text = e.getText();
        if (text.isBlank()) {
            return Decoded.fail("validate", "EMPTY_TEXT", "record " + e.getId() + " at " + where + " has an empty text");
        }
        if (text.length() > maxChars) {
            if (oversize == TeacherConfig.Oversize.DEAD_LETTER) {
                return Decoded.fail("validate", "TEXT_TOO_LONG", "record " + e.getId() + " at " + where + " has "
                        + text.length() + " characters, over text.max.chars=" + maxChars);
            }
            int cut = Character.isHighSurrogate(text.charAt(maxChars - 1)) ? maxChars - 1 : maxChars;
            return Decoded.ok(TextEvent.newBuilder(e).setText(text.substring(0, cut)).build(), true);
        }
        return Decoded.ok(e, false);
    }

    /** The record's key as text, or its coordinates: stable across retries, so ids stay exactly-once. */
    private static String fallbackId(ConsumerRecord<byte[], byte[]> r) {
        if (r.key() != null && r.key().length > 0) {
            try {
                return strictUtf8(r.key());
            } catch (CharacterCodingException notText) {
                // Binary key: use the coordinates.
            }
        }
        return r.topic() + "/" + r.partition() + "/" + r.offset();
    }

    static String strictUtf8(byte[] bytes) throws CharacterCodingException {
        CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes));
        return chars.toString();
    }
}
