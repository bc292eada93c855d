package io.streamdistill.cli;

import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.BadLineHeaders;
import io.streamdistill.schemas.serde.AvroSerializer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;

/** The text topic's records a file becomes: its texts as Avro TextEvents, its bad lines as their raw bytes, marked. */
final class TextRecords {

    static ProducerRecord<byte[], byte[]> text(String topic, AvroSerializer<TextEvent> serializer, String id, String text, String label,
                                               String source) {
        TextEvent e = TextEvent.newBuilder().setId(id).setText(text).setLabel(label).setSource(source).setEventTime(Instant.now())
                .setAttributes(Map.of()).build();
        return new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), serializer.serialize(topic, e));
    }

    /**
     * The line's own bytes as a plain record: the headers name the problem and the place, and the
     * teacher dead-letters it with them (the dead letter keeps the bytes). Not for a line too long
     * for a record.
     */
    static ProducerRecord<byte[], byte[]> badLine(String topic, String id, TextFile.Bad bad, String source) {
        if (bad.tooLong()) {
            throw new IllegalArgumentException("a line of " + bad.length() + " bytes cannot be sent as one record");
        }
        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), bad.raw());
        r.headers().add(new RecordHeader(BadLineHeaders.PROBLEM, bad.problem().name().getBytes(StandardCharsets.UTF_8)));
        r.headers().add(new RecordHeader(BadLineHeaders.WHERE, bad.describe(source).getBytes(StandardCharsets.UTF_8)));
        return r;
    }

    private TextRecords() {
    }
}
