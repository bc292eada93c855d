package io.streamdistill.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.records.SourceRange;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.train.BatchResult;
import io.streamdistill.student.train.Evaluation;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.StudentTrainer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The train operator's pieces, each on its own. */
class TrainerPiecesTest {

    @Test
    void lineageKeepsFirstAndLastOffsetPerPartitionAndSurvivesItsState() throws Exception {
        Lineage a = new Lineage();
        a.add("t", 1, 7);
        a.add("t", 0, 5);
        a.add("t", 1, 3);
        a.add("t", 1, 9);
        Lineage b = new Lineage();
        b.add("t", 1, 12);
        b.add("u", 0, 2);
        a.addAll(b);
        assertThat(a.sources()).extracting(SourceRange::getTopic, SourceRange::getPartition, SourceRange::getFirstOffset,
                SourceRange::getLastOffset).containsExactly(
                org.assertj.core.groups.Tuple.tuple("t", 0, 5L, 5L),
                org.assertj.core.groups.Tuple.tuple("t", 1, 3L, 12L),
                org.assertj.core.groups.Tuple.tuple("u", 0, 2L, 2L));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        a.write(new DataOutputStream(bytes));
        Lineage read = new Lineage();
        read.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertThat(read.sources()).isEqualTo(a.sources());
        assertThat(new Lineage().isEmpty()).isTrue();
    }

    @Test
    void freshnessReportsAgesOfTheRecordsSinceTheLastVersion() {
        Freshness f = new Freshness();
        Map<String, Double> none = new HashMap<>();
        f.report(10_000, none);
        assertThat(none).isEmpty();
        for (int i = 0; i < 2000; i++) { // past the first array's size
            f.arrived(10_000 - i);
        }
        Map<String, Double> m = new HashMap<>();
        f.report(10_000, m);
        assertThat(m).containsEntry("new_records", 2000.0).containsEntry("freshness_max_ms", 1999.0)
                .containsEntry("freshness_p50_ms", 999.0).containsEntry("freshness_p95_ms", 1899.0);
        f.published();
        Map<String, Double> after = new HashMap<>();
        f.report(20_000, after);
        assertThat(after).isEmpty();
    }

    @Test
    void progressMovesAsFarForABatchAsForItsRecordsOneByOne() {
        Progress single = new Progress();
        Progress batched = new Progress();
        single.scored(new Evaluation(2f, 0f, 1f, Float.NaN));
        batched.scored(new Evaluation(2f, 0f, 1f, Float.NaN));
        for (int i = 0; i < 32; i++) {
            single.scored(new Evaluation(1f, 1f, 0.5f, Float.NaN));
        }
        batched.trained(new BatchResult(1, 1f, 1f, 0.5f, 0f, 0f), 32);
        assertThat(batched.loss()).isCloseTo(single.loss(), Offset.offset(1e-9));
        assertThat(batched.agreement()).isCloseTo(single.agreement(), Offset.offset(1e-9));
        assertThat(batched.kl()).isCloseTo(single.kl(), Offset.offset(1e-9));
        assertThat(single.agreement()).isBetween(0.2, 0.3); // 1 - 0.99^32
    }

    @Test
    void cadenceIsDueByRecordsOrByTimeAndOnlyWithSomethingNew() {
        ExportCadence c = new ExportCadence(100, 60, 0);
        assertThat(c.due(120_000)).as("nothing trained").isFalse();
        c.trained(99);
        assertThat(c.due(1_000)).isFalse();
        assertThat(c.due(60_000)).as("by time").isTrue();
        c.trained(1);
        assertThat(c.due(1_000)).as("by records").isTrue();
        c.exported(1_000);
        assertThat(c.pending()).isFalse();
        c.restore(40);
        c.started(5_000);
        assertThat(c.trainedSince()).as("a restart keeps what was trained").isEqualTo(40);
        assertThat(c.due(64_999)).isFalse();
        assertThat(c.due(65_000)).isTrue();
    }

    @Test
    void publisherWritesTheArtifactAndRecordAndTheGateRemembersTheLastVersion(@TempDir Path dir) throws Exception {
        TrainerConfig config = TrainerConfig.of(Map.of("bootstrap.servers", "b:9092", "schema.registry.url", "http://r:8081",
                "student.classes", "a,b", "artifact.dir", dir.toUri().toString(), "gate.max.regression", "0.1"));
        StudentTrainer trainer = StudentTrainer.create(config.studentConfig(50), config.trainingConfig());
        Publisher publisher = new Publisher(config, "tok-1");
        publisher.continueAfterStore();
        Lineage lineage = new Lineage();
        lineage.add("soft", 0, 4);
        Map<String, Double> metrics = new LinkedHashMap<>(Map.of("progressive_loss", 0.5, "unknown", Double.NaN));
        Publisher.Version v1 = publisher.publish(trainer, new HoldoutWindow.Score(0.9, 0.1, Double.NaN, 1000), 64, lineage, null,
                metrics);
        assertThat(v1.number()).isEqualTo(1);
        assertThat(Files.size(Path.of(v1.artifact()))).isPositive();
        StudentCheckpoint record = CheckpointRecords.decode(new OutRecord(new byte[0], v1.record()));
        assertThat(record.getVersion()).isEqualTo(1);
        assertThat(record.getRecordsSeen()).isEqualTo(64);
        assertThat(record.getSources()).hasSize(1);
        assertThat(record.getArtifact().getUri()).isEqualTo(v1.artifact().toString());
        assertThat(record.getMetrics()).containsEntry("holdout_agreement", 0.9).containsEntry("progressive_loss", 0.5)
                .doesNotContainKeys("unknown", "holdout_label_accuracy");
        assertThat(publisher.publish(trainer, new HoldoutWindow.Score(0.7, 0.1, Double.NaN, 1000), 64, lineage, null, Map.of()))
                .as("0.2 below version 1").isNull();
        assertThat(publisher.refusal()).contains("worse than version 1");

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        publisher.write(new DataOutputStream(bytes));
        Publisher restored = new Publisher(config, "tok-1");
        restored.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), 2);
        assertThat(restored.version()).isEqualTo(1);
        assertThat(restored.publish(trainer, new HoldoutWindow.Score(0.7, 0.1, Double.NaN, 1000), 64, lineage, null, Map.of()))
                .as("the gate remembers across a restore").isNull();
        Publisher fresh = new Publisher(config, "tok-1");
        fresh.continueAfterStore();
        assertThat(fresh.version()).as("without state, versions continue after the store's").isEqualTo(1);
    }

    @Test
    void holdoutWindowKeepsTheLatestAndScoresThemWithTheCurrentModel() throws Exception {
        StudentConfig config = StudentConfig.builder().task(io.streamdistill.student.model.Task.CLASSIFICATION).vocabSize(20).embeddingDim(4).classNames(List.of("a", "b")).seed(1).build();
        StudentTrainer trainer = StudentTrainer.create(config, io.streamdistill.student.train.TrainingConfig.builder().build());
        HoldoutWindow w = new HoldoutWindow(3);
        assertThat(w.score(trainer).count()).isZero();
        for (int i = 0; i < 5; i++) {
            w.add(new Example(new int[] {i, i + 1}, new float[] {i % 2 == 0 ? 3f : -3f, 0f}, i % 2));
        }
        assertThat(w.size()).isEqualTo(3);
        HoldoutWindow.Score score = w.score(trainer);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        w.write(new DataOutputStream(bytes));
        HoldoutWindow read = new HoldoutWindow(3);
        read.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertThat(read.score(trainer)).isEqualTo(score);
    }
}
