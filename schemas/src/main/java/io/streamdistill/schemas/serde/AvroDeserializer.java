package io.streamdistill.schemas.serde;

import io.streamdistill.schemas.AvroTrust;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import java.io.EOFException;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroTypeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Kafka deserializer of the schema registry wire format. Given a generated record class it reads
 * every writer schema the registry knows into that class (Avro schema resolution: a newer writer
 * with added fields reads fine, a record of another type fails with {@link SchemaMismatchException});
 * without one it returns {@link org.apache.avro.generic.GenericRecord}s. Writer schemas are
 * fetched once per id. Every malformed input raises a {@link SerdeException} subtype naming what is
 * wrong: {@link UnknownMagicByteException}, {@link TruncatedPayloadException},
 * {@link MalformedAvroException}, {@link io.streamdistill.schemas.registry.UnknownSchemaIdException}.
 */
public class AvroDeserializer<T> implements Deserializer<T> {
    static {
        AvroTrust.install();
    }

    /** Kafka config key naming the generated class to read values into; absent = generic records. */
    public static final String VALUE_TYPE = "specific.avro.value.type";
    /** Kafka config key naming the generated class to read keys into. */
    public static final String KEY_TYPE = "specific.avro.key.type";

    private SchemaRegistryClient client;
    private boolean ownsClient;
    private Schema readerSchema;
    private Class<?> readerClass;
    private final Map<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();

    /** For Kafka's reflective construction; {@link #configure} must follow. */
    public AvroDeserializer() {
    }

    /** Reads values into {@code type} (a generated SpecificRecord class), or generic records when null. */
    public AvroDeserializer(SchemaRegistryClient client, Class<T> type) {
        this.client = client;
        setReaderClass(type);
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        if (client == null) {
            this.client = new SchemaRegistryClient(RegistryConfig.fromMap(configs));
            this.ownsClient = true;
        }
        Object type = configs.get(isKey ? KEY_TYPE : VALUE_TYPE);
        if (type != null && readerClass == null) {
            if (type instanceof Class<?> c) {
                setReaderClass(c);
            } else {
                try {
                    setReaderClass(Class.forName(type.toString(), true, Thread.currentThread().getContextClassLoader()));
                } catch (ClassNotFoundException e) {
                    throw new IllegalArgumentException((isKey ? KEY_TYPE : VALUE_TYPE) + " names class '" + type
                            + "', which is not on the classpath", e);
                }
            }
        }
    }

    private void setReaderClass(Class<?> type) {
        if (type == null) {
            return;
        }
        if (!SpecificRecord.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException(type.getName() + " is not a generated Avro SpecificRecord class");
        }
        this.readerClass = type;
        this.readerSchema = SpecificData.get().getSchema(type);
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        return deserialize(topic, data, "topic " + topic);
    }

    /** Like {@link #deserialize(String, byte[])}, with a fuller location (partition, offset) for error messages. */
    public T deserialize(String topic, byte[] data, String where) {
        if (data == null) {
            return null;
        }
        if (client == null) {
            throw new IllegalStateException("AvroDeserializer has no registry client: pass one to the constructor or call configure()");
        }
        int id = WireFormat.schemaId(data, where);
        DatumReader<T> reader = readers.computeIfAbsent(id, this::readerFor);
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, WireFormat.HEADER_SIZE,
                data.length - WireFormat.HEADER_SIZE, null);
        T value;
        try {
            value = reader.read(null, decoder);
        } catch (EOFException e) {
            throw new TruncatedPayloadException("the Avro body of a record on " + where + " (schema id " + id
                    + ") ends early after " + data.length + " bytes: the record was cut short", e);
        } catch (IOException | RuntimeException e) {
            throw new MalformedAvroException("the Avro body of a record on " + where + " does not decode with schema id "
                    + id + ": " + e + ". The bytes were corrupted, or written with a different schema than the id says.", e);
        }
        try {
            if (!decoder.isEnd()) {
                throw new MalformedAvroException("a record on " + where + " (schema id " + id + ") has bytes left over after its"
                        + " Avro body: it was corrupted or written with a different schema than the id says.", null);
            }
        } catch (IOException e) {
            throw new MalformedAvroException("cannot read the end of a record on " + where + ": " + e, e);
        }
        return value;
    }

    @SuppressWarnings("unchecked")
    private DatumReader<T> readerFor(int id) {
        Schema writer = client.schemaById(id);
        if (readerSchema == null) {
            return new GenericDatumReader<>(writer);
        }
        if (!writer.getFullName().equals(readerSchema.getFullName())
                && !readerSchema.getAliases().contains(writer.getFullName())) {
            throw new SchemaMismatchException("schema id " + id + " is a " + writer.getFullName() + ", but "
                    + readerClass.getName() + " was expected: a record of another type was written to this topic.");
        }
        try {
            // Resolving once here fails fast on incompatible schemas rather than on the first field.
            org.apache.avro.io.ResolvingDecoder.resolve(writer, readerSchema);
        } catch (AvroTypeException | IOException e) {
            throw new SchemaMismatchException("writer schema id " + id + " (" + writer.getFullName() + ") cannot be read as "
                    + readerClass.getName() + ": " + e.getMessage(), e);
        }
        return (DatumReader<T>) new SpecificDatumReader<>(writer, readerSchema);
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
