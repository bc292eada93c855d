package io.streamdistill.trainer;

import io.streamdistill.records.SoftTarget;
import io.streamdistill.schemas.RandomShare;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.SerdeException;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads SoftTarget records through the project's registry deserializer, keeping their topic,
 * partition and offset for lineage. A record that cannot be read is skipped with a log line (the
 * teacher service already dead-lettered bad input; this guards against foreign writers).
 */
final class SoftTargetSchema implements KafkaRecordDeserializationSchema<TargetRecord> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SoftTargetSchema.class);

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
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<TargetRecord> out) {
        SoftTarget st;
        try {
            st = deserializer.deserialize(record.topic(), record.value(),
                    record.topic() + "/" + record.partition() + "@" + record.offset());
        } catch (SerdeException e) {
            LOG.warn("skipping an unreadable soft target ({}): {}", e.reason(), e.getMessage());
            return;
        }
        if (st == null) {
            return;
        }
        List<Float> output = st.getClassLogits() != null ? st.getClassLogits() : st.getEmbedding();
        if (output == null) {
            LOG.warn("skipping soft target {}: it has neither class logits nor an embedding (task {})", st.getId(), st.getTask());
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
        out.collect(r);
    }

    @Override
    public TypeInformation<TargetRecord> getProducedType() {
        return TypeInformation.of(TargetRecord.class);
    }
}
