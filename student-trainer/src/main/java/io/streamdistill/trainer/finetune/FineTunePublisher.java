package io.streamdistill.trainer.finetune;

import io.streamdistill.records.Artifact;
import io.streamdistill.records.FineTuneLineage;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.ClientSettings;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.train.Learner;
import io.streamdistill.trainer.KafkaTopics;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.trainer.ArtifactStore;
import io.streamdistill.trainer.QualityGate;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes a fine-tuned student: through the parent's quality gate (its stream-holdout agreement
 * against the parent's on the same records), then its file under {@code <artifact base>/<name>/<version>/},
 * then its checkpoint record in one Kafka transaction. A refused candidate leaves nothing behind.
 */
public final class FineTunePublisher {
    /** What was published, or why not. */
    public record Outcome(StudentCheckpoint record, String refusal) {
        public boolean published() {
            return record != null;
        }
    }

    /**
     * @param name       the student line to publish under (the parent's, or another)
     * @param version    the lowest version number it may take (one above every version the line has); it
     *                   goes higher when the artifact store already holds that number or a higher one ({@link ArtifactStore#claim})
     * @param steps      optimiser steps fine-tuning took (added to the parent's)
     * @param gate       the parent's gate
     * @param lineage    parent and dataset
     * @param metrics    the candidate's figures (holdout_agreement, test accuracy, ...)
     * @param settings   the settings that shaped it
     */
    public record Candidate(String name, long version, Learner student, long steps, String tokenizerId, StudentCheckpoint parent,
                            FineTuneLineage lineage, double agreement, int holdoutCount, double parentAgreement,
                            Map<String, Double> metrics, Map<String, String> settings, QualityGate gate) {
    }

    public static Outcome publish(Map<String, String> base, SchemaRegistryClient registry, String topic, URI artifactBase,
                                  Candidate c) throws IOException {
        String refusal = c.gate().refusal(c.agreement(), c.holdoutCount(),
                new QualityGate.Published(c.parent().getVersion(), c.parentAgreement(), c.holdoutCount()));
        if (refusal != null) {
            return new Outcome(null, refusal);
        }
        // Claimed in the artifact store, as the trainer claims its own: a number a live trainer (or an export it never
        // published) holds is never taken, so the two never publish the same version.
        ArtifactStore store = new ArtifactStore(artifactBase.toString());
        long version = store.claim(c.name(), c.version());
        byte[] onnx = c.student().exportOnnx(new OnnxExporter.Metadata(c.tokenizerId(), version,
                Map.of("streamdistill.student_name", c.name(), "streamdistill.parent_version", String.valueOf(c.parent().getVersion()))));
        URI uri = store.write(c.name(), version, onnx);
        Map<String, Double> metrics = new LinkedHashMap<>(c.metrics());
        metrics.values().removeIf(v -> v == null || v.isNaN());
        StringBuilder hash = new StringBuilder();
        new TreeMap<>(c.settings()).forEach((k, v) -> hash.append(k).append('=').append(v).append('\n'));
        StudentCheckpoint record = StudentCheckpoint.newBuilder(c.parent())
                .setStudent(c.name())
                .setVersion(version)
                .setCreatedAt(Instant.now())
                .setStep(c.parent().getStep() + c.steps())
                .setMetrics(metrics)
                .setArtifact(Artifact.newBuilder().setUri(uri.toString()).setSha256(Hashing.sha256(onnx)).setBytes(onnx.length)
                        .setFormat("onnx").build())
                .setConfigHash(Hashing.sha256(hash.toString().getBytes(StandardCharsets.UTF_8)))
                .setSettings(new TreeMap<>(c.settings()))
                .setFineTune(c.lineage())
                .setTrainedIds(null) // its parent's ids, plus labelled rows and replayed records the digest does not cover
                .build();
        Map<String, Object> p = new HashMap<>(ClientSettings.kafka(base));
        p.put("bootstrap.servers", base.get("bootstrap.servers"));
        try {
            KafkaTopics.ensure(new HashMap<>(p), topic); // an experiment topic of the user's naming may not exist yet
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("cannot create topic " + topic + " to publish to: " + e.getCause().getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating topic " + topic, e);
        }
        p.put("transactional.id", "streamdistill-finetune-" + c.name());
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, c.name().getBytes(StandardCharsets.UTF_8),
                    new AvroSerializer<StudentCheckpoint>(registry).serialize(topic, record)));
            producer.commitTransaction();
            producer.close(Duration.ofSeconds(10));
        }
        return new Outcome(record, null);
    }

    private FineTunePublisher() {
    }
}
