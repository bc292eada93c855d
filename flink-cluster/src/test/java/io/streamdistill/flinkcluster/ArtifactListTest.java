package io.streamdistill.flinkcluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.localstack.LocalStackException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactListTest {

    /** dependency:list as Maven writes it with colours on: header, ANSI codes, module names, a classifier. */
    @Test
    void parsesMavensListWithColoursModulesAndClassifiers() {
        String text = "\n\u001b[0mThe following files have been resolved:\n"
                + "   org.apache.flink:flink-runtime:jar:2.2.1:compile\u001b[36m -- module flink.runtime\u001b[0;1;33m (auto)\u001b[m\n"
                + "   io.netty:netty-transport-native-epoll:jar:linux-x86_64:4.1.100.Final:runtime\n\n";
        ArtifactList list = ArtifactList.parse("test.list", text);
        assertThat(list.artifacts()).extracting(ArtifactList.Artifact::fileName)
                .containsExactly("flink-runtime-2.2.1.jar", "netty-transport-native-epoll-4.1.100.Final-linux-x86_64.jar");
        assertThat(list.keys()).containsExactly("org.apache.flink:flink-runtime", "io.netty:netty-transport-native-epoll");
    }

    @Test
    void findsTheListedJarsOnAClasspathAnyVersionAndNamesAMissingOne(@TempDir Path dir) {
        ArtifactList list = ArtifactList.parse("test.list", "a:x:jar:1.0:compile\nb:y:jar:2.0:runtime\n");
        List<Path> cp = List.of(dir.resolve("x-1.0.jar"), dir.resolve("other-3.jar"), dir.resolve("y-2.0.jar"));
        assertThat(list.jars(cp, a -> true)).containsExactly(dir.resolve("x-1.0.jar"), dir.resolve("y-2.0.jar"));
        assertThat(list.jars(cp, a -> a.groupId().equals("b"))).containsExactly(dir.resolve("y-2.0.jar"));
        assertThat(list.jars(List.of(dir.resolve("x-1.1.jar"), dir.resolve("y-extra-2.0.jar"), dir.resolve("y-2.1.jar")), a -> true))
                .as("another version of the same artifact, not another artifact").containsExactly(dir.resolve("x-1.1.jar"), dir.resolve("y-2.1.jar"));
        assertThatThrownBy(() -> list.jars(List.of(dir.resolve("x-1.0.jar")), a -> true)).isInstanceOf(LocalStackException.class)
                .hasMessageContaining("y-2.0.jar (b:y, listed in test.list) is not on this JVM's classpath");
    }

    /** The Flink runtime's own list, as this module's build wrote it, is found on this test's classpath. */
    @Test
    void theFlinkLibJarsAreOnThisClasspath() {
        List<Path> jars = FlinkLib.jars();
        assertThat(jars).extracting(p -> p.getFileName().toString())
                .anyMatch(n -> n.startsWith("flink-runtime-2"))
                .anyMatch(n -> n.startsWith("flink-runtime-web-"))
                .anyMatch(n -> n.startsWith("slf4j-api-"))
                .noneMatch(n -> n.startsWith("kafka"));
    }

    /** A jar's manifest Class-Path (java -jar streamdistill-cli.jar) is followed, relative to the jar; a missing entry is skipped. */
    @Test
    void followsAManifestClassPath(@TempDir Path dir) throws Exception {
        Path lib = Files.createDirectories(dir.resolve("lib"));
        Files.writeString(lib.resolve("dep-1.jar"), "not read");
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.CLASS_PATH, "lib/dep-1.jar lib/missing-2.jar");
        Path main = dir.resolve("main.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(main), m)) {
            out.flush();
        }
        String saved = System.getProperty("java.class.path");
        try {
            System.setProperty("java.class.path", main.toString());
            assertThat(ArtifactList.classpath()).containsExactly(main, lib.resolve("dep-1.jar"));
        } finally {
            System.setProperty("java.class.path", saved);
        }
    }
}
