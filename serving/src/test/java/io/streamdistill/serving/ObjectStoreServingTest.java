package io.streamdistill.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.localstack.S3ProxyServer;
import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.Artifact;
import io.streamdistill.records.StudentCheckpoint;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * serve reading its versions from a real S3-compatible store (S3Proxy in its own JVM): each verified by sha256;
 * while the store is down (10 s) the version waits (not refused) and the old one serves; when it is back the
 * version serves; an altered or missing object is refused.
 */
class ObjectStoreServingTest {
    static S3ProxyServer store;
    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        ServingTest.tokenizer();
        store = S3ProxyServer.builder().build().start();
    }

    @AfterAll
    static void stop() {
        store.close();
    }

    /** The version's file moved into the bucket; the record names it there. */
    StudentCheckpoint onStore(String student, long version, long seed) throws Exception {
        StudentCheckpoint local = new StudentVersions(dir, ServingTest.tokenizer()).bag(student, version, seed);
        String key = "artifacts/" + student + "/" + version + "/model.onnx";
        Path object = store.objectFile(key);
        Files.createDirectories(object.getParent());
        Files.move(Path.of(URI.create(local.getArtifact().getUri())), object);
        Artifact file = local.getArtifact();
        local.setArtifact(Artifact.newBuilder().setUri(store.uri(key)).setSha256(file.getSha256()).setBytes(file.getBytes())
                .setFormat(file.getFormat()).build());
        return local;
    }

    @Test
    void versionsComeFromTheStoreAnOutageDelaysOneAndABadObjectIsRefused() throws Exception {
        String topic = SharedLocalStack.newTopic("serve-s3", 1);
        Map<String, String> clients = new HashMap<>(store.clientSettings());
        clients.put("bootstrap.servers", SharedLocalStack.get().bootstrapServers());
        clients.put("schema.registry.url", SharedLocalStack.get().registryUrl());
        ServingTest.publishStatic(topic, onStore("s", 1, 31));
        try (Serving s = new Serving(new CheckpointFollower.Settings(clients, topic, "s", null), "all-MiniLM-L6-v2", 0, 2)) {
            ServingTest.awaitVersion(s, 1);

            StudentCheckpoint v2 = onStore("s", 2, 32);
            store.stop();
            try {
                ServingTest.publish(topic, v2);
                // Long enough for many failed reads (one a second); the trainer's test holds the store down for the target's 30 s.
                Thread.sleep(10_000);
                assertThat(s.holder().peek().version()).as("the old version serves while the store is down").isEqualTo(1);
                assertThat(s.follower().refused()).as("a store that is down refuses nothing").isZero();
            } finally {
                store.start();
            }
            ServingTest.awaitVersion(s, 2);

            StudentCheckpoint v3 = onStore("s", 3, 33);
            Path object = store.objectFile("artifacts/s/3/model.onnx");
            byte[] altered = Files.readAllBytes(object);
            altered[altered.length / 2] ^= 1;
            Files.write(object, altered);
            ServingTest.publish(topic, v3);
            awaitRefusals(s, 1);
            assertThat(s.follower().lastRefusal()).contains("version 3").contains("SHA-256");

            StudentCheckpoint v4 = onStore("s", 4, 34);
            Files.delete(store.objectFile("artifacts/s/4/model.onnx"));
            ServingTest.publish(topic, v4);
            awaitRefusals(s, 2);
            assertThat(s.follower().lastRefusal()).contains("version 4").contains("404");
            assertThat(s.holder().peek().version()).isEqualTo(2);

            ServingTest.publish(topic, onStore("s", 5, 35));
            ServingTest.awaitVersion(s, 5);
        }
    }

    private static void awaitRefusals(Serving s, long n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (s.follower().refused() < n && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(s.follower().refused()).isEqualTo(n);
    }
}
