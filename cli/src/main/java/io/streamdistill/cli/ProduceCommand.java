package io.streamdistill.cli;

import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.Topics;
import io.streamdistill.schemas.serde.AvroSerializer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code streamdistill produce FILE|-}: texts (lines, JSONL or CSV) into distill.text as Avro TextEvents. */
@Command(name = "produce", mixinStandardHelpOptions = true,
        description = "Send texts from a file (lines, .jsonl or .csv with text[,label]) or stdin (-) to the text topic as Avro TextEvents.")
public final class ProduceCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", description = "the file, or - for stdin (one text per line)")
    String file;

    @Option(names = "--topic", defaultValue = Topics.TEXT, description = "target topic (default: ${DEFAULT-VALUE})")
    String topic;

    @Option(names = "--id-prefix", defaultValue = "cli", description = "ids are <prefix>-<n> (default: ${DEFAULT-VALUE})")
    String idPrefix;

    @Override
    public Integer call() throws Exception {
        Corpus corpus = file.equals("-")
                ? Corpus.parse(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), "stdin", "stdin")
                : Corpus.load(Path.of(file));
        try (ClusterOptions.Cluster c = cluster.open()) {
            return produce(c, corpus);
        }
    }

    private int produce(ClusterOptions.Cluster c, Corpus corpus) {
        AvroSerializer<TextEvent> serializer = new AvroSerializer<>(c.registry());
        Map<String, Object> config = c.kafka();
        config.putAll(Map.of("acks", "all", "enable.idempotence", "true"));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            int n = 0;
            for (Corpus.Row row : corpus.rows()) {
                String id = idPrefix + "-" + n++;
                TextEvent e = TextEvent.newBuilder().setId(id).setText(row.text()).setLabel(row.label()).setSource(corpus.source())
                        .setEventTime(Instant.now()).setAttributes(Map.of()).build();
                producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), serializer.serialize(topic, e)));
            }
            producer.flush();
            System.out.println("produced " + n + " records to " + topic);
        }
        return 0;
    }
}
