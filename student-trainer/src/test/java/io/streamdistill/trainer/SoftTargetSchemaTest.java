package io.streamdistill.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.schemas.registry.RegistryConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** What the trainer's source makes of records it cannot read: an outage fails the task, bad bytes become dead letters. */
class SoftTargetSchemaTest {

    private static final class ListCollector implements Collector<TargetRead> {
        final List<TargetRead> items = new ArrayList<>();

        @Override
        public void collect(TargetRead record) {
            items.add(record);
        }

        @Override
        public void close() {
        }
    }

    private static SoftTargetSchema schemaAt(String registryUrl) {
        SoftTargetSchema schema = new SoftTargetSchema(Map.of(RegistryConfig.URL, registryUrl,
                RegistryConfig.RETRY_TIMEOUT_MS, "300", RegistryConfig.RETRY_BACKOFF_MS, "50"));
        schema.open(null);
        return schema;
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void aRegistryOutageFailsTheTaskInsteadOfSkippingTheRecord() throws Exception {
        SoftTargetSchema schema = schemaAt("http://127.0.0.1:" + closedPort());
        // A well-framed record (magic byte 0, schema id 7): only the registry can say what it is.
        byte[] framed = {0, 0, 0, 0, 7, 2, 'x'};
        ListCollector out = new ListCollector();
        assertThatThrownBy(() -> schema.deserialize(new ConsumerRecord<>("soft", 0, 41, "k".getBytes(StandardCharsets.UTF_8), framed), out))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("soft/0@41")
                .hasMessageContaining("REGISTRY_UNAVAILABLE");
        assertThat(out.items).as("nothing emitted, so the offset is not passed").isEmpty();
    }

    @Test
    void bytesThatAreNoSoftTargetBecomeAnUnreadableReadWithTheirReasonAndBytes() throws Exception {
        SoftTargetSchema schema = schemaAt("http://127.0.0.1:" + closedPort());
        byte[] garbage = "not avro at all".getBytes(StandardCharsets.UTF_8);
        ListCollector out = new ListCollector();
        schema.deserialize(new ConsumerRecord<>("soft", 2, 9, "key-9".getBytes(StandardCharsets.UTF_8), garbage), out);
        schema.deserialize(new ConsumerRecord<byte[], byte[]>("soft", 2, 10, null, null), out);

        assertThat(out.items).hasSize(2);
        TargetRead bad = out.items.get(0);
        assertThat(bad.readable()).isFalse();
        assertThat(bad.where()).isEqualTo("soft/2@9");
        assertThat(bad.stage).isEqualTo("deserialize");
        assertThat(bad.reason).isEqualTo("WRONG_MAGIC_BYTE");
        assertThat(bad.value).isEqualTo(garbage);
        assertThat(new String(bad.key, StandardCharsets.UTF_8)).isEqualTo("key-9");
        assertThat(out.items.get(1).reason).isEqualTo("NULL_VALUE");

        io.streamdistill.records.DeadLetter dl = UnreadableTargets.deadLetter(bad, 1234L);
        assertThat(dl.getService()).isEqualTo("student-trainer");
        assertThat(dl.getOffset()).isEqualTo(9);
        assertThat(dl.getReason()).isEqualTo("WRONG_MAGIC_BYTE");
        assertThat(dl.getOriginalValue().array()).isEqualTo(garbage);
    }
}
