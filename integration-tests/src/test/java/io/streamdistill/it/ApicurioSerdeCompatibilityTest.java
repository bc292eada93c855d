package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/**
 * Apicurio's own serde is an independent implementation of the Confluent wire format: bytes must
 * cross between it and ours in both directions, against the same real registry.
 */
class ApicurioSerdeCompatibilityTest {

    private static Map<String, Object> apicurioConfig() {
        Map<String, Object> c = new HashMap<>();
        c.put("apicurio.registry.url", SharedStack.get().registry().apicurioV2Url());
        // The 3.x client's create-artifact call (HTTP 422) and its 'latest' version alias (404) are
        // not understood by the 2.6 server's v2 API, so Apicurio's serializer is pointed at version 1,
        // the one our serializer registered on this fresh subject.
        c.put("apicurio.registry.auto-register", false);
        c.put("apicurio.registry.artifact.version", "1");
        c.put("apicurio.registry.use-specific-avro-reader", true);
        return c;
    }

    @Test
    void bytesCrossBetweenOurSerdeAndApicuriosInBothDirections() {
        for (SpecificRecord sample : SampleRecords.all()) {
            String topic = "crosscheck-" + sample.getSchema().getName().toLowerCase();

            AvroSerializer<SpecificRecord> ours = new AvroSerializer<>();
            ours.configure(SharedStack.registryConfig(), false);
            byte[] ourBytes = ours.serialize(topic, sample);

            try (AvroKafkaDeserializer<SpecificRecord> theirs = new AvroKafkaDeserializer<>()) {
                theirs.configure(apicurioConfig(), false);
                assertThat(theirs.deserialize(topic, ourBytes)).as("Apicurio reads our %s", sample.getSchema().getName())
                        .isEqualTo(sample);
            }

            byte[] theirBytes;
            try (AvroKafkaSerializer<SpecificRecord> theirs = new AvroKafkaSerializer<>()) {
                theirs.configure(apicurioConfig(), false);
                theirBytes = theirs.serialize(topic, sample);
            }
            @SuppressWarnings("unchecked")
            AvroDeserializer<SpecificRecord> reader = new AvroDeserializer<>(SharedStack.registryClient(),
                    (Class<SpecificRecord>) sample.getClass());
            assertThat(reader.deserialize(topic, theirBytes)).as("we read Apicurio's %s", sample.getSchema().getName())
                    .isEqualTo(sample);
            assertThat(theirBytes).as("same schema id, same Avro body: identical bytes").isEqualTo(ourBytes);
        }
    }

    @Test
    void ourHeaderIsMagicZeroThenTheRegistrysIdBigEndian() {
        AvroSerializer<SoftTarget> ours = new AvroSerializer<>(SharedStack.registryClient());
        byte[] bytes = ours.serialize("crosscheck-header", SampleRecords.classification());
        int id = SharedStack.registryClient().latest("crosscheck-header-value").id();
        assertThat(bytes[0]).isZero();
        assertThat(java.nio.ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(id);
    }
}
