package io.streamdistill.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.schemas.registry.RegistryServerException;
import io.streamdistill.schemas.registry.RegistryUnavailableException;
import io.streamdistill.schemas.serde.UnknownMagicByteException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.junit.jupiter.api.Test;

/** The deserialization handler the monitor's streams application is configured with. */
class UnreadableRecordsTest {

    private static DeserializationExceptionHandler configuredHandler(String applicationId) throws Exception {
        Properties p = Monitor.streamsProperties(MonitorConfig.of(Map.of("bootstrap.servers", "127.0.0.1:9",
                "schema.registry.url", "http://127.0.0.1:9", "application.id", applicationId)));
        Class<?> type = (Class<?>) p.get(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG);
        DeserializationExceptionHandler handler = (DeserializationExceptionHandler) type.getConstructor().newInstance();
        Map<String, Object> configs = new HashMap<>();
        p.forEach((k, v) -> configs.put(k.toString(), v));
        handler.configure(configs);
        return handler;
    }

    @Test
    void aRegistryOutageFailsTheThreadSoTheRecordIsReadAgainInsteadOfPassedOver() throws Exception {
        DeserializationExceptionHandler handler = configuredHandler("mon-outage");
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("distill.soft-targets", 0, 5, null, new byte[] {0, 0, 0, 0, 1});
        assertThat(handler.handleError(null, record, new RegistryUnavailableException("registry down", -1, -1, null)).result())
                .isEqualTo(DeserializationExceptionHandler.Result.FAIL);
        assertThat(handler.handleError(null, record, new RegistryServerException("HTTP 503", 503, -1, null)).result())
                .isEqualTo(DeserializationExceptionHandler.Result.FAIL);
        assertThat(UnreadableRecords.count("mon-outage")).as("an outage is not counted as unreadable").isZero();
    }

    @Test
    void anUnreadableRecordIsCountedNamedAndPassedOver() throws Exception {
        DeserializationExceptionHandler handler = configuredHandler("mon-unreadable");
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("distill.soft-targets", 1, 42, null, "plain".getBytes());
        assertThat(handler.handleError(null, record, new UnknownMagicByteException("magic byte 0x70")).result())
                .isEqualTo(DeserializationExceptionHandler.Result.RESUME);
        assertThat(UnreadableRecords.count("mon-unreadable")).isEqualTo(1);
        assertThat(UnreadableRecords.last("mon-unreadable")).contains("distill.soft-targets/1@42").contains("magic byte");
    }
}
