package io.streamdistill.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Header checks happen before any registry call, so these need no registry (the URL is never contacted). */
class WireFormatTest {
    private final AvroDeserializer<TextEvent> deserializer = new AvroDeserializer<>(
            new SchemaRegistryClient(RegistryConfig.builder("http://127.0.0.1:9").retryTimeout(Duration.ZERO).build()),
            TextEvent.class);

    @Test
    void headerRoundTripsBigEndian() {
        byte[] b = new byte[5];
        WireFormat.writeHeader(b, 0x01020304);
        assertThat(b).containsExactly(0, 1, 2, 3, 4);
        assertThat(WireFormat.schemaId(b, "t")).isEqualTo(0x01020304);
    }

    @Test
    void jsonOnAnAvroTopicIsAWrongMagicByte() {
        byte[] json = "{\"id\":\"1\",\"text\":\"hi\"}".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> deserializer.deserialize("distill.text", json))
                .isInstanceOfSatisfying(UnknownMagicByteException.class, e -> assertThat(e.reason()).isEqualTo("WRONG_MAGIC_BYTE"))
                .hasMessageContaining("0x7b ('{')")
                .hasMessageContaining("value.serializer");
    }

    @Test
    void shortOrEmptyRecordsAreTruncated() {
        assertThatThrownBy(() -> deserializer.deserialize("distill.text", new byte[0]))
                .isInstanceOf(TruncatedPayloadException.class).hasMessageContaining("empty record");
        assertThatThrownBy(() -> deserializer.deserialize("distill.text", new byte[] {0, 0, 1}))
                .isInstanceOfSatisfying(TruncatedPayloadException.class, e -> assertThat(e.reason()).isEqualTo("TRUNCATED"))
                .hasMessageContaining("3 bytes long");
    }

    @Test
    void nullIsATombstone() {
        assertThat(deserializer.deserialize("distill.text", null)).isNull();
    }
}
