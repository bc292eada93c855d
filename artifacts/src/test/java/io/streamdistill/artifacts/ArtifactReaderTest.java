package io.streamdistill.artifacts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.localstack.S3ProxyServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads from a real S3-compatible server (S3Proxy in its own JVM), and tells a store that is down from a missing file. */
class ArtifactReaderTest {
    static S3ProxyServer store;

    @BeforeAll
    static void start() {
        store = S3ProxyServer.builder().build().start();
    }

    @AfterAll
    static void stop() {
        store.close();
    }

    @Test
    void readsAnObjectAndRefusesAMissingOneOrWrongCredentials() throws IOException {
        byte[] bytes = "a student file".getBytes();
        Path file = store.objectFile("line/1/model.onnx");
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        try (ArtifactReader reader = ArtifactReader.fromSettings(store.clientSettings())) {
            assertThat(reader.read(URI.create(store.uri("line/1/model.onnx")))).isEqualTo(bytes);
            assertThatThrownBy(() -> reader.read(URI.create(store.uri("line/2/model.onnx"))))
                    .isInstanceOf(IOException.class).isNotInstanceOf(ArtifactUnavailableException.class).hasMessageContaining("404");
            assertThatThrownBy(() -> reader.read(URI.create("s3://" + S3ProxyServer.BUCKET))).hasMessageContaining("names no object");
        }
        Map<String, String> wrong = new HashMap<>(store.clientSettings());
        wrong.put(ObjectStoreSettings.SECRET_KEY, "not-the-secret");
        try (ArtifactReader reader = ArtifactReader.fromSettings(wrong)) {
            assertThatThrownBy(() -> reader.read(URI.create(store.uri("line/1/model.onnx"))))
                    .isNotInstanceOf(ArtifactUnavailableException.class).hasMessageContaining("403")
                    .hasMessageContaining("s3.secret-key").hasMessageNotContaining("not-the-secret");
        }
    }

    @Test
    void aStoreThatIsDownIsUnavailableNotMissingAndReadsAgainWhenBack() throws IOException {
        Path file = store.objectFile("line/7/model.onnx");
        Files.createDirectories(file.getParent());
        Files.write(file, new byte[] {7});
        try (ArtifactReader reader = ArtifactReader.fromSettings(store.clientSettings())) {
            store.stop();
            try {
                assertThatThrownBy(() -> reader.read(URI.create(store.uri("line/7/model.onnx"))))
                        .isInstanceOf(ArtifactUnavailableException.class).hasMessageContaining("did not answer");
            } finally {
                store.start();
            }
            assertThat(reader.read(URI.create(store.uri("line/7/model.onnx")))).containsExactly(7);
        }
    }

    @Test
    void localFilesAndSettings(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("m.onnx");
        Files.write(f, new byte[] {1, 2});
        try (ArtifactReader reader = new ArtifactReader(ObjectStoreSettings.defaults())) {
            assertThat(reader.read(f.toUri())).containsExactly(1, 2);
            assertThatThrownBy(() -> reader.read(dir.resolve("none").toUri())).hasMessageContaining("no file at");
            assertThatThrownBy(() -> reader.read(URI.create("ftp://x/y"))).hasMessageContaining("not supported");
        }
        ObjectStoreSettings s = ObjectStoreSettings.from(store.clientSettings());
        assertThat(s.toString()).doesNotContain(store.clientSettings().get(ObjectStoreSettings.SECRET_KEY)).contains(s.accessKey());
        assertThatThrownBy(() -> ObjectStoreSettings.from(Map.of(ObjectStoreSettings.ACCESS_KEY, "a")))
                .hasMessageContaining("go together");
        assertThatThrownBy(() -> ObjectStoreSettings.from(Map.of(ObjectStoreSettings.ENDPOINT, "127.0.0.1:9000")))
                .hasMessageContaining("s3.endpoint");
        assertThatThrownBy(() -> ObjectStoreSettings.from(Map.of(ObjectStoreSettings.PATH_STYLE, "yes")))
                .hasMessageContaining("true or false");
    }
}
