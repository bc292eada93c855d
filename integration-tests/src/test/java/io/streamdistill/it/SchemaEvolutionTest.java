package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.records.SoftTarget;
import io.streamdistill.schemas.registry.IncompatibleSchemaException;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

class SchemaEvolutionTest {

    /** SoftTarget v1 with one more field appended. */
    private static Schema softTargetWith(Schema.Field extra) {
        Schema v1 = SoftTarget.getClassSchema();
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : v1.getFields()) {
            fields.add(new Schema.Field(f, f.schema()));
        }
        fields.add(extra);
        return Schema.createRecord(v1.getName(), v1.getDoc(), v1.getNamespace(), false, fields);
    }

    private static GenericRecord asV2(SoftTarget v1Record, Schema v2, String extraField, Object extraValue) {
        GenericRecord r = new GenericData.Record(v2);
        for (Schema.Field f : SoftTarget.getClassSchema().getFields()) {
            Object value = v1Record.get(f.pos());
            // Generic records carry timestamp-millis as a plain long, as any non-Java producer would.
            r.put(f.name(), value instanceof java.time.Instant t ? t.toEpochMilli() : value);
        }
        r.put(extraField, extraValue);
        return r;
    }

    /** A v2 SoftTarget with an added optional field registers under BACKWARD, and v1 readers still read it. */
    @Test
    void anAddedOptionalFieldIsAcceptedAndOldReadersReadNewRecords() {
        String topic = "evolution-ok";
        SchemaRegistryClient client = SharedStack.registryClient();
        byte[] v1Bytes = new AvroSerializer<SoftTarget>(client).serialize(topic, SampleRecords.classification());

        Schema nullableString = Schema.createUnion(Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.STRING));
        Schema v2 = softTargetWith(new Schema.Field("region", nullableString,
                "Where the text was written (a field a later version might add).", JsonProperties.NULL_VALUE));
        assertThat(client.checkCompatibility(topic + "-value", v2).compatible()).isTrue();

        byte[] v2Bytes = new AvroSerializer<GenericRecord>(client)
                .serialize(topic, asV2(SampleRecords.classification(), v2, "region", "eu-west"));
        assertThat(client.latest(topic + "-value").version()).isEqualTo(2);

        AvroDeserializer<SoftTarget> oldReader = new AvroDeserializer<>(SharedStack.registryClient(), SoftTarget.class);
        assertThat(oldReader.deserialize(topic, v2Bytes)).isEqualTo(SampleRecords.classification());
        assertThat(oldReader.deserialize(topic, v1Bytes)).isEqualTo(SampleRecords.classification());
    }

    /** A field added without a default breaks BACKWARD: the registry refuses it and says why. */
    @Test
    void anIncompatibleChangeIsRefusedWithAClearError() {
        String topic = "evolution-refused";
        SchemaRegistryClient client = SharedStack.registryClient();
        new AvroSerializer<SoftTarget>(client).serialize(topic, SampleRecords.classification());

        Schema broken = softTargetWith(new Schema.Field("weight", Schema.create(Schema.Type.DOUBLE), "no default", null));
        SchemaRegistryClient.Compatibility check = client.checkCompatibility(topic + "-value", broken);
        assertThat(check.compatible()).isFalse();
        assertThat(check.messages()).isNotEmpty();

        assertThatThrownBy(() -> new AvroSerializer<GenericRecord>(client)
                .serialize(topic, asV2(SampleRecords.classification(), broken, "weight", 0.5)))
                .isInstanceOfSatisfying(IncompatibleSchemaException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(409);
                    assertThat(e.reason()).isEqualTo("INCOMPATIBLE_SCHEMA");
                })
                .hasMessageContaining("subject '" + topic + "-value'")
                .hasMessageContaining("compatibility rule")
                .hasMessageContaining("weight");
        assertThat(client.latest(topic + "-value").version()).as("nothing was registered").isEqualTo(1);
    }
}
