package io.streamdistill.cli;

import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.Topics;
import io.streamdistill.schemas.serde.AvroSerializer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code streamdistill produce FILE|-}: texts (lines, JSONL or CSV) into distill.text as Avro
 * TextEvents. Every line is accounted for: a line that is not a usable text (invalid UTF-8, a NUL, a
 * CSV row with the wrong number of fields, ...) is sent as its raw bytes, marked, for the teacher to
 * dead-letter ({@code --on-bad-line send}, the default), left out and counted ({@code skip}), or
 * stops the command before anything is sent ({@code fail}); a line too long for one Kafka record is
 * refused and reported.
 */
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

    @Option(names = "--on-bad-line", defaultValue = "send", description = "send (raw bytes, for the teacher to dead-letter with the "
            + "reason), skip (counted) or fail (before sending anything) (default: ${DEFAULT-VALUE})")
    String onBadLine;

    @Override
    public Integer call() throws Exception {
        OnBadLine policy = OnBadLine.parse(onBadLine, true);
        Corpus corpus = file.equals("-") ? Corpus.read(stdin(), "stdin", policy) : Corpus.load(Path.of(file), policy, "FILE");
        try (ClusterOptions.Cluster c = cluster.open()) {
            return produce(c, corpus, policy);
        }
    }

    private static byte[] stdin() {
        try {
            return System.in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read standard input: " + e.getMessage(), e);
        }
    }

    private int produce(ClusterOptions.Cluster c, Corpus corpus, OnBadLine policy) {
        AvroSerializer<TextEvent> serializer = new AvroSerializer<>(c.registry());
        Map<String, Object> config = c.kafka();
        config.putAll(Map.of("acks", "all", "enable.idempotence", "true"));
        long texts = 0;
        long sent = 0;
        long refused = 0;
        long skipped = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            int n = 0;
            for (TextFile.Entry entry : corpus.contents().entries()) {
                if (entry instanceof TextFile.Text t) {
                    producer.send(TextRecords.text(topic, serializer, idPrefix + "-" + n++, t.text(), t.label(), corpus.source()));
                    texts++;
                } else if (entry instanceof TextFile.Bad b) {
                    if (policy == OnBadLine.SKIP) {
                        skipped++;
                    } else if (b.tooLong()) {
                        System.err.println("refused: " + b.describe(corpus.source()));
                        refused++;
                    } else {
                        producer.send(TextRecords.badLine(topic, idPrefix + "-" + n++, b, corpus.source()));
                        sent++;
                    }
                }
            }
            producer.flush();
        }
        System.out.printf("produced %d records to %s: %d texts, %d bad lines sent for the teacher to dead-letter; %d refused (too long"
                        + " for a record), %d skipped, %d blank, of %d lines%n", texts + sent, topic, texts, sent, refused, skipped,
                corpus.contents().blank(), corpus.contents().physicalLines());
        return 0;
    }
}
