package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.schemas.registry.SchemaNotRegisteredException;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.UnknownSchemaIdException;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.schemas.serde.MalformedAvroException;
import io.streamdistill.schemas.serde.SchemaMismatchException;
import io.streamdistill.schemas.serde.TruncatedPayloadException;
import io.streamdistill.schemas.serde.UnknownMagicByteException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/** Every kind of bad bytes raises its own typed exception, whose message says what is wrong. */
class BadBytesTest {
    private static final String TOPIC = "badbytes";

    private final AvroDeserializer<SoftTarget> reader = new AvroDeserializer<>(SharedStack.registryClient(), SoftTarget.class);

    private byte[] good() {
        return new AvroSerializer<SoftTarget>(SharedStack.registryClient()).serialize(TOPIC, SampleRecords.classification());
    }

    @Test
    void unknownSchemaId() {
        byte[] bytes = good();
        bytes[1] = 0x7f; // schema id 0x7f00_00xx: never issued
        assertThatThrownBy(() -> reader.deserialize(TOPIC, bytes))
                .isInstanceOfSatisfying(UnknownSchemaIdException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(404);
                    assertThat(e.reason()).isEqualTo("UNKNOWN_SCHEMA_ID");
                })
                .hasMessageContaining("is not in the registry")
                .hasMessageContaining("schema.registry.url");
    }

    @Test
    void wrongMagicByte() {
        byte[] bytes = good();
        bytes[0] = 1;
        assertThatThrownBy(() -> reader.deserialize(TOPIC, bytes))
                .isInstanceOf(UnknownMagicByteException.class).hasMessageContaining("0x01");
        byte[] text = "just some text".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> reader.deserialize(TOPIC, text))
                .isInstanceOf(UnknownMagicByteException.class).hasMessageContaining("('j')");
    }

    @Test
    void truncatedHeaderAndTruncatedBody() {
        byte[] bytes = good();
        assertThatThrownBy(() -> reader.deserialize(TOPIC, Arrays.copyOf(bytes, 4)))
                .isInstanceOf(TruncatedPayloadException.class).hasMessageContaining("5-byte header");
        assertThatThrownBy(() -> reader.deserialize(TOPIC, Arrays.copyOf(bytes, bytes.length / 2)))
                .isInstanceOf(TruncatedPayloadException.class).hasMessageContaining("ends early");
    }

    @Test
    void corruptBodyAndTrailingGarbage() {
        byte[] bytes = good();
        byte[] corrupt = bytes.clone();
        Arrays.fill(corrupt, 5, corrupt.length, (byte) 0xff); // huge negative lengths everywhere
        assertThatThrownBy(() -> reader.deserialize(TOPIC, corrupt))
                .isInstanceOfSatisfying(MalformedAvroException.class, e -> assertThat(e.reason()).isEqualTo("MALFORMED_AVRO"))
                .hasMessageContaining("does not decode");
        byte[] trailing = Arrays.copyOf(bytes, bytes.length + 3);
        assertThatThrownBy(() -> reader.deserialize(TOPIC, trailing))
                .isInstanceOf(MalformedAvroException.class).hasMessageContaining("left over");
    }

    @Test
    void aRecordOfAnotherTypeOnTheTopic() {
        byte[] deadLetter = new AvroSerializer<DeadLetter>(SharedStack.registryClient())
                .serialize("badbytes-other", SampleRecords.deadLetter());
        assertThatThrownBy(() -> reader.deserialize(TOPIC, deadLetter))
                .isInstanceOfSatisfying(SchemaMismatchException.class, e -> assertThat(e.reason()).isEqualTo("WRONG_RECORD_TYPE"))
                .hasMessageContaining("io.streamdistill.records.DeadLetter")
                .hasMessageContaining(SoftTarget.class.getName());
    }

    @Test
    void withAutoRegisterOffAnUnregisteredSchemaIsRefused() {
        SchemaRegistryClient noAutoRegister = new SchemaRegistryClient(
                RegistryConfig.builder(SharedStack.get().registryUrl()).autoRegister(false).build());
        assertThatThrownBy(() -> new AvroSerializer<SoftTarget>(noAutoRegister)
                .serialize("badbytes-never-registered", SampleRecords.classification()))
                .isInstanceOf(SchemaNotRegisteredException.class)
                .hasMessageContaining("auto.register.schemas");
    }

    /** Through a real consumer, the typed exception arrives as the cause of Kafka's own, with the offset. */
    @Test
    void aKafkaConsumerSurfacesTheTypedExceptionWithTheOffset() throws Exception {
        String topic = SharedStack.newTopic("badbytes-consumer", 1);
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of(
                "bootstrap.servers", SharedStack.get().bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(topic, new byte[] {0, 0})).get();
        }
        try (KafkaConsumer<String, SoftTarget> c = new KafkaConsumer<>(
                KafkaIO.consumerConfig(AvroDeserializer.class, "read_committed"), new StringDeserializer(),
                new AvroDeserializer<>(SharedStack.registryClient(), SoftTarget.class))) {
            c.subscribe(List.of(topic));
            assertThatThrownBy(() -> {
                for (int i = 0; i < 100; i++) {
                    c.poll(Duration.ofMillis(200));
                }
            }).isInstanceOfSatisfying(RecordDeserializationException.class, e -> {
                assertThat(e.offset()).isZero();
                assertThat(e.getCause()).isInstanceOf(TruncatedPayloadException.class);
            });
        }
    }
}
