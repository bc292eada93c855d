package io.streamdistill.trainer;

import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.schemas.serde.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Checkpoint records between the train operator and where they go. The operator emits plain Avro
 * binary (no registry framing), so it needs no registry and a replay can collect its records
 * without registering anything; the Kafka sink adds the registry framing ({@link KafkaSerializer}).
 */
public final class CheckpointRecords {
    static {
        // Decoding needs the records package trusted; nothing else may have installed that in this JVM yet.
        io.streamdistill.schemas.AvroTrust.install();
    }

    static byte[] encode(StudentCheckpoint record) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try {
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            new SpecificDatumWriter<>(StudentCheckpoint.class).write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The record an {@link OutRecord} carries. */
    public static StudentCheckpoint decode(OutRecord r) {
        try {
            return new SpecificDatumReader<>(StudentCheckpoint.class).read(null, DecoderFactory.get().binaryDecoder(r.value, null));
        } catch (IOException e) {
            throw new UncheckedIOException("a checkpoint record the train operator emitted does not decode", e);
        }
    }

    /** Frames each record for the registry (magic byte, schema id) on its way into Kafka. */
    static final class KafkaSerializer implements KafkaRecordSerializationSchema<OutRecord> {
        private static final long serialVersionUID = 1L;
        private final String topic;
        private final Map<String, Object> registryConfig;
        private transient AvroSerializer<StudentCheckpoint> serializer;
        private transient int schemaId;

        KafkaSerializer(String topic, Map<String, Object> registryConfig) {
            this.topic = topic;
            this.registryConfig = registryConfig;
        }

        @Override
        public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
            // Looked up at the first record, not here: a registry outage at start then fails the task only when there
            // is something to publish, and the source meets it first (and fails, so nothing is read past).
            serializer = new AvroSerializer<>(new SchemaRegistryClient(RegistryConfig.fromMap(registryConfig)));
            schemaId = -1;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(OutRecord r, KafkaSinkContext context, Long timestamp) {
            if (schemaId < 0) {
                schemaId = serializer.schemaId(topic, StudentCheckpoint.getClassSchema());
            }
            // The registry's framing is a 5-byte header before the same Avro binary.
            byte[] framed = new byte[WireFormat.HEADER_SIZE + r.value.length];
            WireFormat.writeHeader(framed, schemaId);
            System.arraycopy(r.value, 0, framed, WireFormat.HEADER_SIZE, r.value.length);
            return new ProducerRecord<>(topic, r.key, framed);
        }
    }

    private CheckpointRecords() {
    }
}
