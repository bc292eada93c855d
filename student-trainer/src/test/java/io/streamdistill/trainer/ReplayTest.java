package io.streamdistill.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.Topics;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.MiniLmFiles;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.trainer.replay.Replay;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replays of a soft-target topic as experiments, on the embedded broker and the real registry. */
class ReplayTest {
    private static String single;
    private static String twoPartitions;

    @BeforeAll
    static void produce() throws Exception {
        TrainerJobTest.start();
        single = SharedLocalStack.newTopic("replay-soft", 1);
        TrainerJobTest.produceSoftTargets(single, 2500, 11);
        twoPartitions = SharedLocalStack.newTopic("replay-soft-2p", 2);
        TrainerJobTest.produceSoftTargets(twoPartitions, 2500, 12);
    }

    static Map<String, String> base() {
        return Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                "schema.registry.url", SharedLocalStack.get().registryUrl());
    }

    static Replay.Result replay(Path out, String name, String topic, String from, String to, Map<String, String> overrides)
            throws Exception {
        List<String> progress = new ArrayList<>();
        Replay.Result r = Replay.run(new Replay.Spec(name, base(), overrides, topic, from, to, out, Topics.CHECKPOINTS, null),
                progress::add);
        assertThat(progress).as("progress is reported").isNotEmpty();
        return r;
    }

    /**
     * Soft targets keep raw logits, so a replay can change the temperature: a different, valid student
     * (artifact present with its sha256, runs in ONNX Runtime), and the experiment's files say what ran.
     * The same range, settings and seed on one partition give a bit-identical final artifact.
     */
    @Test
    void anotherTemperatureGivesADifferentValidStudentAndTheSameSettingsTheSameBytes(@TempDir Path out) throws Exception {
        Replay.Result base = replay(out, "base", single, "earliest", "latest", Map.of("student.embedding.dim", "16"));
        // The same name (it is written into the ONNX metadata) in another output directory.
        Replay.Result again = replay(out.resolve("rerun"), "base", single, "earliest", "latest", Map.of("student.embedding.dim", "16"));
        Replay.Result hot = replay(out, "t4", single, "earliest", "latest",
                Map.of("student.embedding.dim", "16", "training.temperature", "4"));

        StudentCheckpoint a = base.last();
        StudentCheckpoint b = again.last();
        StudentCheckpoint c = hot.last();
        assertThat(a.getRecordsSeen()).isEqualTo(b.getRecordsSeen()).isEqualTo(c.getRecordsSeen()).isGreaterThan(2000);
        assertThat(b.getArtifact().getSha256()).as("same range, settings and seed: bit-identical").isEqualTo(a.getArtifact().getSha256());
        assertThat(c.getArtifact().getSha256()).as("another temperature: another student").isNotEqualTo(a.getArtifact().getSha256());
        TextTokenizer tokenizer = TextTokenizer.load(MiniLmFiles.tokenizer(), "all-MiniLM-L6-v2", 128);
        for (StudentCheckpoint cp : List.of(a, c)) {
            Path file = Path.of(URI.create(cp.getArtifact().getUri()));
            assertThat(Hashing.sha256(Files.readAllBytes(file))).isEqualTo(cp.getArtifact().getSha256());
            try (StudentRunner runner = StudentRunner.load(file, cp.getArtifact().getSha256(), tokenizer, 1)) {
                assertThat(runner.score(List.of("a few words"))[0]).hasSize(4);
            }
        }

        JsonNode experiment = new ObjectMapper().readTree(out.resolve("t4/experiment.json").toFile());
        assertThat(experiment.get("status").asText()).isEqualTo("finished");
        assertThat(experiment.get("from").asText()).isEqualTo("earliest");
        assertThat(experiment.get("resolved_offsets").get(0).get("start_offset").asLong()).isZero();
        assertThat(experiment.get("resolved_offsets").get(0).get("end_offset").asLong()).isGreaterThanOrEqualTo(2500);
        assertThat(experiment.get("config").get("training.temperature").asText()).isEqualTo("4");
        assertThat(experiment.get("seed").asText()).isEqualTo("42");
        assertThat(experiment.get("code_version").get("version").asText()).isEqualTo("0.1.0-SNAPSHOT");
        assertThat(experiment.get("final").get("artifact").get("sha256").asText()).isEqualTo(c.getArtifact().getSha256());
        List<String> lines = Files.readAllLines(out.resolve("t4/metrics.jsonl"));
        assertThat(lines).hasSize(hot.versions().size()).hasSizeGreaterThanOrEqualTo(5);
        assertThat(new ObjectMapper().readTree(lines.get(lines.size() - 1)).get("holdout_agreement").asDouble()).isBetween(0.0, 1.0);
        assertThat(out.resolve("t4/checkpoints/t4")).isDirectory();
    }

    /**
     * A replay can change the architecture: the same topic replayed into a transformer student gives a valid student
     * (trained on the same records, runs in ONNX Runtime) and a replay with the same settings gives the same bytes.
     */
    @Test
    void aReplayTrainsATransformerStudentOnTheSameRecordsReproducibly(@TempDir Path out) throws Exception {
        Map<String, String> transformer = Map.of("student.arch", "transformer", "student.transformer.layers", "1",
                "student.transformer.width", "16", "student.transformer.heads", "2", "student.transformer.ffn", "32");
        StudentCheckpoint a = replay(out, "tf", single, "earliest", "latest", transformer).last();
        StudentCheckpoint b = replay(out.resolve("rerun"), "tf", single, "earliest", "latest", transformer).last();
        assertThat(a.getArchitecture()).startsWith("transformer 1x16");
        assertThat(a.getRecordsSeen()).isGreaterThan(2000);
        assertThat(a.getTrainedIds()).isEqualTo(b.getTrainedIds());
        assertThat(b.getArtifact().getSha256()).as("same range, settings and seed: bit-identical").isEqualTo(a.getArtifact().getSha256());
        Path file = Path.of(URI.create(a.getArtifact().getUri()));
        try (StudentRunner runner = StudentRunner.load(file, a.getArtifact().getSha256(),
                TextTokenizer.load(MiniLmFiles.tokenizer(), "all-MiniLM-L6-v2", 128), 1)) {
            assertThat(runner.score(List.of("a few words"))[0]).hasSize(4);
        }
    }

    /** On two partitions the interleaving varies between runs; the result stays within the tolerance docs/experiments.md states. */
    @Test
    void onSeveralPartitionsTheResultStaysWithinTheStatedTolerance(@TempDir Path out) throws Exception {
        StudentCheckpoint first = replay(out, "p2-a", twoPartitions, "earliest", "latest", Map.of("student.embedding.dim", "16")).last();
        StudentCheckpoint second = replay(out, "p2-b", twoPartitions, "earliest", "latest", Map.of("student.embedding.dim", "16")).last();
        assertThat(second.getRecordsSeen()).isEqualTo(first.getRecordsSeen());
        double diff = Math.abs(first.getMetrics().get("holdout_agreement") - second.getMetrics().get("holdout_agreement"));
        System.out.printf("two partitions: holdout agreement %.4f vs %.4f (difference %.4f), sha256 %s%n",
                first.getMetrics().get("holdout_agreement"), second.getMetrics().get("holdout_agreement"), diff,
                first.getArtifact().getSha256().equals(second.getArtifact().getSha256()) ? "equal" : "different");
        assertThat(diff).isLessThanOrEqualTo(0.03);
    }

    /** Given a cluster's REST address, the replay is submitted there (a MiniCluster with its REST endpoint stands in for one). */
    @Test
    void aReplayRunsOnARemoteFlinkClusterWhenGivenOne(@TempDir Path out) throws Exception {
        org.apache.flink.configuration.Configuration conf = new org.apache.flink.configuration.Configuration();
        conf.set(org.apache.flink.configuration.RestOptions.BIND_PORT, "0");
        org.apache.flink.runtime.minicluster.MiniClusterConfiguration mc = new org.apache.flink.runtime.minicluster
                .MiniClusterConfiguration.Builder().setConfiguration(conf).setNumTaskManagers(1).setNumSlotsPerTaskManager(1).build();
        try (org.apache.flink.runtime.minicluster.MiniCluster cluster = new org.apache.flink.runtime.minicluster.MiniCluster(mc)) {
            cluster.start();
            String address = "localhost:" + cluster.getRestAddress().get().getPort();
            // The test JVM already holds the job's classes, so no job jar is shipped here; a real cluster gets --job-jar.
            Replay.Result r = Replay.run(new Replay.Spec("remote", base(), Map.of("student.embedding.dim", "16"), single, "0:0", "0:600",
                    out, Topics.CHECKPOINTS, null, address, List.of()), s -> { });
            assertThat(r.last()).isNotNull();
            assertThat(r.last().getRecordsSeen()).isBetween(400L, 600L);
            JsonNode experiment = new ObjectMapper().readTree(out.resolve("remote/experiment.json").toFile());
            assertThat(experiment.get("flink").asText()).isEqualTo(address);
            assertThat(cluster.listJobs().get()).as("the job ran on that cluster").isNotEmpty();
        }
    }

    /**
     * A production student trained at train.parallelism=2 is replayed in one subtask (a bounded job
     * cannot read the sync topic to its end); asked for 2, the trainer's settings refuse it by name.
     */
    @Test
    void aReplayOfAParallelStudentTrainsInOneSubtask() {
        Map<String, String> production = Map.of("train.parallelism", "2", "sync.delta.bits", "8", "training.learningRate", "0.05");
        Map<String, String> inherited = Replay.inherited("x", production, Map.of("training.temperature", "4"));
        assertThat(inherited).containsEntry("train.parallelism", "1").containsEntry("training.learningRate", "0.05")
                .containsEntry("sync.delta.bits", "8");
        Map<String, String> asked = new java.util.HashMap<>(base());
        asked.putAll(Replay.inherited("x", production, Map.of("train.parallelism", "2")));
        asked.put("bounded.end", "latest");
        asked.put("student.classes", "a,b");
        assertThatThrownBy(() -> TrainerConfig.of(asked)).hasMessageContaining("train.parallelism")
                .hasMessageContaining("unbounded job");
    }

    /** The newest production version may be a fine-tuned one: what finetune recorded of itself is not inherited. */
    @Test
    void aReplayAfterAFineTuneInheritsTheTrainersSettingsOnly() {
        Map<String, String> production = Map.of("training.learningRate", "0.05", "finetune.epochs", "3", "finetune.testSplit", "0.2");
        Map<String, String> settings = new java.util.HashMap<>(base());
        settings.putAll(Replay.inherited("x", production, Map.of()));
        settings.put("student.classes", "a,b");
        assertThat(settings).containsEntry("training.learningRate", "0.05").doesNotContainKeys("finetune.epochs", "finetune.testSplit");
        assertThat(TrainerConfig.of(settings).trainingConfig().learningRate()).isEqualTo(0.05f);
    }

    /** Replayed into another architecture, the production student's start does not follow (a bag's static table is no transformer's). */
    @Test
    void aReplayIntoAnotherArchitectureDoesNotInheritTheStart() {
        Map<String, String> production = Map.of("student.init", "static:/tables/t.sdstatic", "student.init.head", "teacher",
                "training.learningRate", "0.05");
        Map<String, String> inherited = Replay.inherited("x", production, Map.of("student.arch", "transformer"));
        assertThat(inherited).containsEntry("training.learningRate", "0.05").doesNotContainKeys("student.init", "student.init.head");
        assertThat(Replay.inherited("x", production, Map.of("student.arch", "bag"))).containsEntry("student.init",
                "static:/tables/t.sdstatic");
    }

    /** Bad ranges fail before anything runs, with one clear line naming what is wrong. */
    @Test
    void badRangesGiveClearErrors(@TempDir Path out) {
        assertThatThrownBy(() -> replay(out, "x", single, "2026-11-28T12:00:00Z", "2026-11-28T11:00:00Z", Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--to 2026-11-28T11:00:00Z is before --from");
        assertThatThrownBy(() -> replay(out, "x", single, "0:100", "0:50", Map.of()))
                .hasMessageContaining("--to is before --from on partition 0").hasMessageContaining("50 < 100");
        assertThatThrownBy(() -> replay(out, "x", "no-such-topic", "earliest", "latest", Map.of()))
                .hasMessageContaining("topic 'no-such-topic' does not exist");
        assertThatThrownBy(() -> replay(out, "x", single, "0:999999", "latest", Map.of()))
                .hasMessageContaining("offset 999999 of partition 0 is outside the offsets it holds");
        assertThatThrownBy(() -> replay(out, "x", single, "7:0", "latest", Map.of()))
                .hasMessageContaining("partition 7 does not exist");
        assertThatThrownBy(() -> replay(out, "x", single, "latest", "latest", Map.of()))
                .hasMessageContaining("holds no records");
        assertThatThrownBy(() -> replay(out, "x", single, "yesterday", "latest", Map.of()))
                .hasMessageContaining("--from must be earliest, latest, an instant");
        assertThatThrownBy(() -> Replay.run(new Replay.Spec("x", base(), Map.of(), single, "earliest", "latest", out,
                Topics.CHECKPOINTS, Topics.CHECKPOINTS), s -> { }))
                .hasMessageContaining("never publishes to the production checkpoint topic");
        assertThat(out.resolve("x")).doesNotExist();
    }
}
