package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.records.SoftTarget;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class RecordRoundTripTest {

    /** Every record type survives our serializer, the broker, the registry and our deserializer unchanged. */
    @Test
    void everyRecordTypeRoundTripsThroughTheBrokerAndTheRegistry() throws Exception {
        for (SpecificRecord sample : SampleRecords.all()) {
            String topic = SharedStack.newTopic("roundtrip-" + sample.getSchema().getName().toLowerCase(), 1);
            try (KafkaProducer<String, SpecificRecord> producer =
                         new KafkaProducer<>(KafkaIO.producerConfig(AvroSerializer.class))) {
                producer.send(new ProducerRecord<>(topic, "key", sample)).get();
            }
            Map<String, Object> config = new HashMap<>(KafkaIO.consumerConfig(AvroDeserializer.class, "read_committed"));
            config.put(AvroDeserializer.VALUE_TYPE, sample.getClass().getName());
            List<ConsumerRecord<String, SpecificRecord>> read = KafkaIO.readAll(topic, config, 1);

            assertThat(read).hasSize(1);
            assertThat(read.get(0).value()).isEqualTo(sample);
            assertThat(SharedStack.registryClient().latest(topic + "-value").schema()).isEqualTo(sample.getSchema());
        }
    }

    /** After the first record of a schema, neither side calls the registry again. */
    @Test
    void theHotPathMakesNoRegistryCallAfterTheFirstRecord() throws Exception {
        String topic = SharedStack.newTopic("hotpath", 1);
        SchemaRegistryClient writerClient = SharedStack.registryClient();
        SchemaRegistryClient readerClient = SharedStack.registryClient();
        int n = 500;
        try (KafkaProducer<String, SoftTarget> producer = new KafkaProducer<>(
                KafkaIO.producerConfig(AvroSerializer.class), new StringSerializer(), new AvroSerializer<>(writerClient))) {
            producer.send(new ProducerRecord<>(topic, "0", SampleRecords.classification())).get();
            long afterFirst = writerClient.httpRequests();
            for (int i = 1; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, String.valueOf(i), SampleRecords.classification()));
            }
            producer.flush();
            assertThat(afterFirst).isEqualTo(1);
            assertThat(writerClient.httpRequests()).isEqualTo(afterFirst);
        }
        var records = KafkaIO.readAll(topic, KafkaIO.consumerConfig(AvroDeserializer.class, "read_committed"),
                new AvroDeserializer<>(readerClient, SoftTarget.class), n);
        assertThat(records).hasSize(n);
        assertThat(readerClient.httpRequests()).isEqualTo(1);
    }
}
