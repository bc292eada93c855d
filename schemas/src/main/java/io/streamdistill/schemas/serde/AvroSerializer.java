package io.streamdistill.schemas.serde;

import io.streamdistill.schemas.Topics;
import io.streamdistill.schemas.AvroTrust;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serializer of Avro records in the schema registry wire format, under the subject
 * {@code <topic>-value} (or {@code -key}). The first record of each schema registers it (or, with
 * {@code auto.register.schemas=false}, looks it up); later records make no registry call.
 * Thread-safe, as Kafka producers require.
 */
public class AvroSerializer<T extends GenericContainer> implements Serializer<T> {
    static {
        AvroTrust.install();
    }

    private SchemaRegistryClient client;
    private boolean ownsClient;
    private boolean isKey;
    private boolean autoRegister = true;
    /** Per subject, per schema: the id. Two levels because one schema may live under several subjects. */
    private final Map<String, Map<Schema, Integer>> ids = new ConcurrentHashMap<>();
    private final Map<Schema, DatumWriter<Object>> writers = new ConcurrentHashMap<>();

    /** For Kafka's reflective construction; {@link #configure} must follow. */
    public AvroSerializer() {
    }

    /** A value serializer on a shared client; auto-registration follows the client's config. */
    public AvroSerializer(SchemaRegistryClient client) {
        this.client = client;
        this.autoRegister = client.config().autoRegister();
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.isKey = isKey;
        if (client == null) {
            this.client = new SchemaRegistryClient(RegistryConfig.fromMap(configs));
            this.ownsClient = true;
            this.autoRegister = client.config().autoRegister();
        }
    }

    @Override
    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null;
        }
        if (client == null) {
            throw new IllegalStateException("AvroSerializer has no registry client: pass one to the constructor or call configure()");
        }
        Schema schema = record.getSchema();
        int id = schemaId(topic, schema);
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        byte[] header = new byte[WireFormat.HEADER_SIZE];
        WireFormat.writeHeader(header, id);
        out.writeBytes(header);
        try {
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            writers.computeIfAbsent(schema, s -> writerFor(record)).write(record, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            throw new MalformedAvroException("cannot encode a " + schema.getFullName() + " for topic " + topic + ": " + e, e);
        }
        return out.toByteArray();
    }

    /**
     * The id this serializer writes for {@code schema} on {@code topic}: registers it (or looks it up)
     * on first use and caches it. Services call it at start-up to find out whether the registry
     * answers before they report ready.
     */
    public int schemaId(String topic, Schema schema) {
        if (client == null) {
            throw new IllegalStateException("AvroSerializer has no registry client: pass one to the constructor or call configure()");
        }
        String subject = isKey ? Topics.keySubject(topic) : Topics.valueSubject(topic);
        return ids.computeIfAbsent(subject, s -> new ConcurrentHashMap<>())
                .computeIfAbsent(schema, s -> autoRegister ? client.register(subject, s) : client.idOf(subject, s));
    }

    private static DatumWriter<Object> writerFor(GenericContainer record) {
        Schema schema = record.getSchema();
        return record instanceof SpecificRecord
                ? new SpecificDatumWriter<>(schema, SpecificData.getForClass(record.getClass()))
                : new GenericDatumWriter<>(schema);
    }

    public SchemaRegistryClient client() {
        return client;
    }

    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }
}
