package io.streamdistill.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.artifacts.ArtifactReader;
import io.streamdistill.artifacts.ObjectStoreSettings;
import io.streamdistill.localstack.S3ProxyServer;
import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.student.Hashing;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer's artifact store on a real S3-compatible server through Flink's S3 plugin; readers read it back. */
class ObjectStoreArtifactsTest {
    static S3ProxyServer store;

    @BeforeAll
    static void start() {
        TrainerJobTest.start();
        store = S3ProxyServer.builder().build().start();
    }

    @AfterAll
    static void stop() throws Exception {
        FileSystem.initialize(new Configuration(), null); // the JVM's other tests get Flink's plain file systems back
        store.close();
    }

    @Test
    void versionsAreClaimedWrittenOnceAndReadBackWithoutTheSecretInAnyLog() throws Exception {
        try (LogCapture logs = LogCapture.everything()) {
            ObjectStoreFileSystem.initialize(store.clientSettings());
            ArtifactStore artifacts = new ArtifactStore(store.uri("artifacts"));
            long v1 = artifacts.claim("line", 1);
            long v2 = artifacts.claim("line", 1);
            assertThat(v2).isEqualTo(v1 + 1);
            URI written = artifacts.write("line", v1, new byte[] {1, 2, 3});
            assertThat(written.toString()).isEqualTo(store.uri("artifacts/line/" + v1 + "/model.onnx"));
            assertThatThrownBy(() -> artifacts.write("line", v1, new byte[] {9})).hasMessageContaining("never replaced");
            assertThat(artifacts.highestVersion("line")).isEqualTo(v2);
            assertThat(new ArtifactStore(store.uri("artifacts")).claim("line", 1)).isEqualTo(v2 + 1);
            try (ArtifactReader reader = ArtifactReader.fromSettings(store.clientSettings())) {
                assertThat(reader.read(written)).containsExactly(1, 2, 3);
            }
            String secret = store.clientSettings().get(ObjectStoreSettings.SECRET_KEY);
            assertThat(logs.messages).isNotEmpty().noneMatch(m -> m.contains(secret));
        }
    }

    /**
     * The trainer on a MiniCluster writes its versions to the store; the store goes down for 30 s while records keep
     * coming: the job waits (its exports fail and it restarts from its checkpoint), and when the store is back it
     * publishes again. Every record not held out is trained on exactly once, every published file is in the store
     * with the sha256 its record gives, and no version number is published twice.
     */
    @Test
    void aStoreDownFor30SecondsDelaysVersionsAndLosesNothing(@TempDir Path dir) throws Exception {
        String in = SharedLocalStack.newTopic("s3-soft", 1);
        String out = SharedLocalStack.newTopic("s3-checkpoints", 1);
        ObjectStoreFileSystem.initialize(store.clientSettings());
        TrainerConfig config = TrainerConfig.of(TrainerJobTest.settings(in, out, dir.resolve("unused"), Map.of(
                "artifact.dir", store.uri("trained"), "bounded.end", "none", "export.every.records", "400",
                "export.every.seconds", "2", "checkpoint.interval.ms", "1000")));
        TrainerJobTest.produceSoftTargets(in, 1500, 61);
        JobClient job = TrainerJobTest.startUnbounded(config, dir.resolve("flink"));
        try {
            TrainerJobTest.awaitRecordsSeen(out, TrainerJobTest.trainingRecords(1500, 61, 10), Duration.ofMinutes(2));
            store.stop();
            try {
                TrainerJobTest.produceSoftTargets(in, 1500, 62);
                Thread.sleep(30_000);
            } finally {
                store.start();
            }
            List<StudentCheckpoint> published = TrainerJobTest.awaitRecordsSeen(out,
                    TrainerJobTest.trainingRecords(1500, 61, 10) + TrainerJobTest.trainingRecords(1500, 62, 10), Duration.ofMinutes(4));
            StudentCheckpoint last = published.get(published.size() - 1);
            TrainerJobTest.assertTrainedOnExactly(last, TrainerJobTest.trainingIds(1500, 61, 10), TrainerJobTest.trainingIds(1500, 62, 10));
            assertThat(published.stream().map(StudentCheckpoint::getVersion).toList()).as("versions increase, none twice")
                    .isSorted().doesNotHaveDuplicates();
            // finetune reads a version back through the same file system: the newest one loads as a student to go on training.
            assertThat(io.streamdistill.trainer.finetune.StudentLine.load(last, config.trainingConfig()).describe())
                    .isEqualTo(last.getArchitecture());
            try (ArtifactReader reader = ArtifactReader.fromSettings(store.clientSettings())) {
                for (StudentCheckpoint v : published) {
                    assertThat(v.getArtifact().getUri()).startsWith(store.uri("trained/"));
                    assertThat(Hashing.sha256(reader.read(URI.create(v.getArtifact().getUri()))))
                            .as("version %d's file", v.getVersion()).isEqualTo(v.getArtifact().getSha256());
                }
            }
        } finally {
            job.cancel().get();
        }
    }

    @Test
    void badSettingsAreRefusedNamingTheKey() {
        Map<String, String> half = new HashMap<>(store.clientSettings());
        half.remove(ObjectStoreSettings.SECRET_KEY);
        assertThatThrownBy(() -> ObjectStoreFileSystem.initialize(half)).hasMessageContaining("s3.secret-key");
        assertThat(ObjectStoreFileSystem.needed(Map.of("artifact.dir", "s3://b/x"))).isTrue();
        assertThat(ObjectStoreFileSystem.needed(Map.of("artifact.dir", "file:///x"))).isFalse();
    }
}
