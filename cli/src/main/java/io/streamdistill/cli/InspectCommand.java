package io.streamdistill.cli;

import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.SerdeException;
import io.streamdistill.schemas.serde.WireFormat;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code streamdistill inspect TOPIC}: decode any project topic through the registry, one JSON line per record. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Print a topic's records as JSON lines (Avro through the registry; other bytes as text), committed records only.")
public final class InspectCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", description = "the topic, e.g. distill.soft-targets")
    String topic;

    @Option(names = "--max", defaultValue = "100", description = "stop after this many records (default: ${DEFAULT-VALUE})")
    int max;

    @Option(names = "--timeout", defaultValue = "5", description = "stop when nothing arrives for this many seconds (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Override
    public Integer call() {
        if (max < 1) {
            throw new IllegalArgumentException("--max must be >= 1, got " + max);
        }
        try (ClusterOptions.Cluster c = cluster.open()) {
            return inspect(c);
        }
    }

    private int inspect(ClusterOptions.Cluster c) {
        AvroDeserializer<GenericRecord> avro = new AvroDeserializer<>(c.registry(), null);
        Map<String, Object> config = c.kafka();
        config.putAll(Map.of("group.id", "streamdistill-inspect-" + System.nanoTime(), "auto.offset.reset", "earliest",
                "enable.auto.commit", "false", "isolation.level", "read_committed"));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            int printed = 0;
            long idleSince = System.nanoTime();
            while (printed < max && System.nanoTime() - idleSince < Duration.ofSeconds(timeoutSeconds).toNanos()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    idleSince = System.nanoTime();
                    System.out.println(render(avro, r));
                    if (++printed >= max) {
                        break;
                    }
                }
            }
        }
        return 0;
    }

    static String render(AvroDeserializer<GenericRecord> avro, ConsumerRecord<byte[], byte[]> r) {
        byte[] v = r.value();
        if (v != null && v.length > 0 && v[0] == WireFormat.MAGIC_BYTE) {
            try {
                return avro.deserialize(r.topic(), v).toString();
            } catch (SerdeException e) {
                return "{\"undecodable\": \"" + e.reason() + "\", \"offset\": " + r.offset() + "}";
            }
        }
        String text = v == null ? "" : new String(v, StandardCharsets.UTF_8);
        return "{\"raw\": " + com.fasterxml.jackson.databind.node.TextNode.valueOf(text) + ", \"offset\": " + r.offset() + "}";
    }
}
