package io.streamdistill.trainer;

import io.streamdistill.records.DeadLetter;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroSerializer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passes readable soft targets on and sends every unreadable one to {@link #UNREADABLE}, counted
 * (the {@code unreadableSoftTargets} metric) and logged with its coordinates. The job writes them
 * to the dead-letter topic in the same exactly-once checkpoints as its offsets, so a record the
 * trainer cannot use is never skipped silently: it is kept where the teacher's dead letters are.
 */
final class UnreadableTargets extends ProcessFunction<TargetRead, TargetRecord> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(UnreadableTargets.class);
    static final OutputTag<TargetRead> UNREADABLE = new OutputTag<>("unreadable-soft-targets") {
        private static final long serialVersionUID = 1L;
    };
    static final String SERVICE = "student-trainer";

    private final String deadLetterTopic;
    private transient Counter unreadable;

    /** {@code deadLetterTopic} only names the destination in log lines (blank: they stay in their topic only). */
    UnreadableTargets(String deadLetterTopic) {
        this.deadLetterTopic = deadLetterTopic;
    }

    @Override
    public void open(OpenContext context) {
        unreadable = getRuntimeContext().getMetricGroup().counter("unreadableSoftTargets");
    }

    @Override
    public void processElement(TargetRead read, Context ctx, Collector<TargetRecord> out) {
        if (read.readable()) {
            out.collect(read.target);
            return;
        }
        unreadable.inc();
        // One line per bad record, never per healthy one: these are rare and each needs a look.
        LOG.warn("unreadable soft target at {} ({} {}): {}; {}", read.where(), read.stage, read.reason, read.message,
                deadLetterTopic.isBlank() ? "not trained on, it stays in its topic" : "dead-lettered to " + deadLetterTopic);
        ctx.output(UNREADABLE, read);
    }

    /** A DeadLetter record for {@code read}, as the teacher writes them. */
    static DeadLetter deadLetter(TargetRead read, long failedAtMillis) {
        return DeadLetter.newBuilder().setId(read.id).setTopic(read.topic).setPartition(read.partition).setOffset(read.offset)
                .setOriginalKey(read.key == null ? null : ByteBuffer.wrap(read.key))
                .setOriginalValue(read.value == null ? null : ByteBuffer.wrap(read.value))
                .setStage(read.stage).setReason(read.reason).setMessage(read.message).setService(SERVICE)
                .setFailedAt(Instant.ofEpochMilli(failedAtMillis)).build();
    }

    /** Writes unreadable records as DeadLetter records in the registry's wire format, keyed like the original. */
    static final class DeadLetterSerializer implements KafkaRecordSerializationSchema<TargetRead> {
        private static final long serialVersionUID = 1L;
        private final String topic;
        private final Map<String, Object> registryConfig;
        private transient AvroSerializer<DeadLetter> serializer;

        DeadLetterSerializer(String topic, Map<String, Object> registryConfig) {
            this.topic = topic;
            this.registryConfig = Map.copyOf(registryConfig);
        }

        @Override
        public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
            // The schema id is looked up at the first dead letter, so a registry outage never stops a healthy job here.
            serializer = new AvroSerializer<>(new SchemaRegistryClient(RegistryConfig.fromMap(registryConfig)));
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(TargetRead read, KafkaSinkContext context, Long timestamp) {
            byte[] key = read.key != null ? read.key : read.id == null ? null : read.id.getBytes(StandardCharsets.UTF_8);
            return new ProducerRecord<>(topic, key, serializer.serialize(topic, deadLetter(read, System.currentTimeMillis())));
        }
    }
}
