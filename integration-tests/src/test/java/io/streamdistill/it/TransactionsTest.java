package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class TransactionsTest {

    private static TextEvent event(String id) {
        return TextEvent.newBuilder(SampleRecords.textEvent()).setId(id).build();
    }

    /** Records of an aborted transaction are invisible to read_committed readers, but were written. */
    @Test
    void abortedRecordsAreInvisibleToReadCommittedConsumers() throws Exception {
        String topic = SharedStack.newTopic("txn", 2);
        Map<String, Object> config = new HashMap<>(KafkaIO.producerConfig(AvroSerializer.class));
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "txn-test-" + System.nanoTime());
        try (KafkaProducer<String, TextEvent> producer = new KafkaProducer<>(config)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "c1", event("committed-1")));
            producer.send(new ProducerRecord<>(topic, "c2", event("committed-2")));
            producer.commitTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "a1", event("aborted-1")));
            producer.send(new ProducerRecord<>(topic, "a2", event("aborted-2")));
            producer.flush();
            producer.abortTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "c3", event("committed-3")));
            producer.commitTransaction();
        }

        assertThat(ids(topic, "read_committed", 3)).containsExactlyInAnyOrder("committed-1", "committed-2", "committed-3");
        assertThat(ids(topic, "read_uncommitted", 5)).as("the aborted records are in the log")
                .containsExactlyInAnyOrder("committed-1", "committed-2", "aborted-1", "aborted-2", "committed-3");
    }

    private static List<String> ids(String topic, String isolation, int expected) {
        Map<String, Object> config = new HashMap<>(KafkaIO.consumerConfig(AvroDeserializer.class, isolation));
        config.put(AvroDeserializer.VALUE_TYPE, TextEvent.class.getName());
        List<ConsumerRecord<String, TextEvent>> records = KafkaIO.readAll(topic, config, expected);
        return records.stream().map(r -> r.value().getId()).toList();
    }
}
