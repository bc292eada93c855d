package io.streamdistill.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.artifacts.ArtifactReader;
import io.streamdistill.artifacts.ObjectStoreSettings;
import io.streamdistill.localstack.S3ProxyServer;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The trainer's artifact store on a real S3-compatible server through Flink's S3 plugin; readers read it back. */
class ObjectStoreArtifactsTest {
    static S3ProxyServer store;

    @BeforeAll
    static void start() {
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

    @Test
    void badSettingsAreRefusedNamingTheKey() {
        Map<String, String> half = new HashMap<>(store.clientSettings());
        half.remove(ObjectStoreSettings.SECRET_KEY);
        assertThatThrownBy(() -> ObjectStoreFileSystem.initialize(half)).hasMessageContaining("s3.secret-key");
        assertThat(ObjectStoreFileSystem.needed(Map.of("artifact.dir", "s3://b/x"))).isTrue();
        assertThat(ObjectStoreFileSystem.needed(Map.of("artifact.dir", "file:///x"))).isFalse();
    }
}
