package io.streamdistill.trainer;

import io.streamdistill.records.SoftTarget;
import io.streamdistill.schemas.RandomShare;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.SerdeException;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads SoftTarget records through the project's registry deserializer, keeping their topic,
 * partition and offset for lineage. A registry outage (unreachable after the client's retries,
 * 5xx, refused credentials) fails the task, so Flink restarts from the last checkpoint and the
 * record is read again: its offset is never committed unread. A record that really cannot be a
 * soft target (malformed bytes, an unknown schema id, no teacher output) becomes an unreadable
 * {@link TargetRead}, which {@link UnreadableTargets} counts and dead-letters.
 */
final class SoftTargetSchema implements KafkaRecordDeserializationSchema<TargetRead> {
    private static final long serialVersionUID = 1L;
    private final Map<String, Object> registryConfig;
    private transient AvroDeserializer<SoftTarget> deserializer;

    SoftTargetSchema(Map<String, Object> registryConfig) {
        this.registryConfig = Map.copyOf(registryConfig);
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        deserializer = new AvroDeserializer<>(new SchemaRegistryClient(RegistryConfig.fromMap(registryConfig)), SoftTarget.class);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<TargetRead> out) throws IOException {
        if (record.value() == null) {
            out.collect(TargetRead.unreadable(record, null, "deserialize", "NULL_VALUE", "the record has no value (a tombstone?)"));
            return;
        }
        SoftTarget st;
        try {
            st = deserializer.deserialize(record.topic(), record.value(),
                    record.topic() + "/" + record.partition() + "@" + record.offset());
        } catch (SerdeException e) {
            if (e.isOutage()) {
                throw new IOException("cannot read soft target " + record.topic() + "/" + record.partition() + "@" + record.offset()
                        + " while the schema registry is unavailable (" + e.reason() + "); failing the task so that it is read"
                        + " again after the restart: " + e.getMessage(), e);
            }
            out.collect(TargetRead.unreadable(record, null, "deserialize", e.reason(), e.getMessage()));
            return;
        }
        List<Float> output = st.getClassLogits() != null ? st.getClassLogits() : st.getEmbedding();
        if (output == null) {
            out.collect(TargetRead.unreadable(record, st.getId(), "validate", "NO_TEACHER_OUTPUT", "soft target " + st.getId()
                    + " has neither class logits nor an embedding (task " + st.getTask() + "); this trainer learns from those"));
            return;
        }
        TargetRecord r = new TargetRecord();
        r.id = st.getId();
        r.text = st.getText();
        r.label = st.getLabel();
        r.teacher = new float[output.size()];
        for (int i = 0; i < r.teacher.length; i++) {
            r.teacher[i] = output.get(i);
        }
        List<Float> pooled = st.getPooledEmbedding();
        if (pooled != null) {
            r.teacherEmbedding = new float[pooled.size()];
            for (int i = 0; i < r.teacherEmbedding.length; i++) {
                r.teacherEmbedding[i] = pooled.get(i);
            }
        }
        r.teacherModelId = st.getTeacher().getModelId();
        r.teacherSha256 = st.getTeacher().getSha256();
        r.teacherTokenizer = st.getTeacher().getTokenizer();
        r.topic = record.topic();
        r.partition = record.partition();
        r.offset = record.offset();
        r.arrivalMillis = System.currentTimeMillis();
        r.randomShare = RandomShare.contains(st);
        Double p = st.getSampling() == null ? null : st.getSampling().getInclusionProbability();
        r.inclusionProbability = p != null && p > 0 && p <= 1 ? p : 1;
        out.collect(TargetRead.of(r));
    }

    @Override
    public TypeInformation<TargetRead> getProducedType() {
        return TypeInformation.of(TargetRead.class);
    }
}
