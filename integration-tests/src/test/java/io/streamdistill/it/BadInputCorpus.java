package io.streamdistill.it;

import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.serde.AvroSerializer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Inputs a live text topic really receives, bad and awkward, each with what the teacher must do with
 * it: a dead letter with this reason, or a soft target whose text is exactly (or, when truncated,
 * starts with) the given one. Built for one input topic, since the registry framing names the subject.
 */
final class BadInputCorpus {

    /** One input. {@code reason} null means "processed"; then {@code text} is what the soft target carries. */
    record Case(String name, byte[] value, String reason, String text, boolean truncated) {
        String key() {
            return "case-" + name;
        }

        boolean deadLetter() {
            return reason != null;
        }
    }

    static final String ONE_MB_LINE = "a sentence that is repeated until the record weighs one megabyte. ";

    static List<Case> cases(String topic) {
        AvroSerializer<TextEvent> avro = new AvroSerializer<>(SharedStack.registryClient());
        byte[] goodAvro = avro.serialize(topic, TextEvent.newBuilder().setId("probe").setText("probe text").setLabel(null)
                .setSource(null).setEventTime(Instant.EPOCH).setAttributes(Map.of()).build());
        byte[] malformed = goodAvro.clone();
        Arrays.fill(malformed, 5, malformed.length, (byte) 0xff);
        byte[] unknownId = goodAvro.clone();
        unknownId[1] = 0x7f; // schema id 0x7f......: never registered
        byte[] wrongMagic = goodAvro.clone();
        wrongMagic[0] = 0x01;
        byte[] otherType = new AvroSerializer<DeadLetter>(SharedStack.registryClient()).serialize(topic + "-other",
                DeadLetter.newBuilder().setId("x").setTopic("t").setPartition(0).setOffset(0).setStage("s").setReason("r")
                        .setMessage("m").setService("s").setFailedAt(Instant.EPOCH).build());
        String oneMb = ONE_MB_LINE.repeat(1_000_000 / ONE_MB_LINE.length());
        String control = "NUL \u0000 BEL \u0007 ESC \u001b TAB\tand a form feed \f inside the text";
        String unicode = "RTL שלום עולם مرحبا, combining e\u0301 a\u0308, emoji 🚀👩🏽‍💻, CJK 漢字, ZWJ and BOM \uFEFF";

        List<Case> cases = new ArrayList<>();
        cases.add(dead("malformed-avro", malformed, "MALFORMED_AVRO"));
        cases.add(dead("unknown-schema-id", unknownId, "UNKNOWN_SCHEMA_ID"));
        cases.add(dead("wrong-magic-byte", wrongMagic, "WRONG_MAGIC_BYTE"));
        cases.add(dead("truncated-header", new byte[] {0, 0, 0}, "TRUNCATED"));
        cases.add(dead("wrong-record-type", otherType, "WRONG_RECORD_TYPE"));
        cases.add(dead("invalid-utf8", new byte[] {'o', 'k', ' ', (byte) 0xC3, 0x28, ' ', (byte) 0xFF}, "INVALID_UTF8"));
        cases.add(dead("blank-json-text", utf8("{\"id\":\"blank\",\"text\":\"  \\t \"}"), "EMPTY_TEXT"));
        cases.add(dead("blank-text", utf8("   \n  "), "EMPTY_TEXT"));
        cases.add(dead("malformed-json", utf8("{\"id\": \"broken\", \"text\": "), "MALFORMED_JSON"));
        cases.add(dead("json-missing-text", utf8("{\"id\":\"no-text\",\"body\":\"hello\"}"), "MISSING_FIELD"));
        cases.add(dead("json-text-not-a-string", utf8("{\"text\": 42}"), "MISSING_FIELD"));
        cases.add(dead("json-bad-event-time", utf8("{\"text\":\"fine words\",\"eventTime\":\"yesterday\"}"), "BAD_FIELD"));
        cases.add(new Case("one-megabyte-text", utf8(oneMb), null, oneMb, true));
        cases.add(new Case("nul-and-control-characters", utf8(control), null, control, false));
        cases.add(new Case("unicode-edge-cases", utf8(unicode), null, unicode, false));
        cases.add(new Case("json-without-id", utf8("{\"text\":\"the key names this record\"}"), null,
                "the key names this record", false));
        return cases;
    }

    /** A good record to put before each case: plain text, JSON or Avro in turn. */
    static byte[] good(String topic, int i, AvroSerializer<TextEvent> avro) {
        String text = goodText(i);
        return switch (i % 3) {
            case 0 -> utf8(text);
            case 1 -> utf8("{\"id\":\"good-" + i + "\",\"text\":\"" + text + "\"}");
            default -> avro.serialize(topic, TextEvent.newBuilder().setId("good-" + i).setText(text).setLabel(null)
                    .setSource("it").setEventTime(Instant.now()).setAttributes(Map.of()).build());
        };
    }

    static String goodText(int i) {
        return "a perfectly ordinary sentence number " + i;
    }

    private static Case dead(String name, byte[] value, String reason) {
        return new Case(name, value, reason, null, false);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private BadInputCorpus() {
    }
}
