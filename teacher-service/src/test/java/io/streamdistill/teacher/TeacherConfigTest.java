package io.streamdistill.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.teacher.service.TeacherConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TeacherConfigTest {
    private static final Map<String, String> MINIMAL = Map.of("bootstrap.servers", "b:9092", "schema.registry.url", "http://r:8081");

    @Test
    void flagsBeatEnvironmentWhichBeatsTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("teacher.properties");
        Files.writeString(file, "bootstrap.servers=file:9092\nschema.registry.url=http://r\nbatch.max.size=8\npoll.max.records=99\n");
        TeacherConfig c = TeacherConfig.load(file,
                Map.of("STREAMDISTILL_TEACHER_BATCH_MAX_SIZE", "16", "STREAMDISTILL_TEACHER_POLL_MAX_RECORDS", "50", "HOME", "/x"),
                Map.of("poll.max.records", "7", "kafka.security.protocol", "SASL_SSL",
                        "kafka.sasl.jaas.config", "secret-stuff", "basic.auth.user.info", "u:pw"));
        assertThat(c.string("bootstrap.servers")).isEqualTo("file:9092");
        assertThat(c.integer("batch.max.size")).isEqualTo(16);
        assertThat(c.integer("poll.max.records")).isEqualTo(7);
        assertThat(c.integer("teacher.failure.retries")).isEqualTo(3);
        assertThat(c.kafkaConfig()).containsEntry("security.protocol", "SASL_SSL").containsEntry("bootstrap.servers", "file:9092");
        assertThat(c.registryConfig()).containsEntry("basic.auth.user.info", "u:pw");
        assertThat(c.toString()).doesNotContain("secret-stuff").doesNotContain("u:pw").contains("[hidden]");
    }

    @Test
    void errorsNameTheKeyAndValue() {
        assertThatThrownBy(() -> TeacherConfig.of(Map.of("schema.registry.url", "http://r")))
                .hasMessageContaining("bootstrap.servers is required");
        assertThatThrownBy(() -> TeacherConfig.of(with("batch.max.size", "lots")))
                .hasMessageContaining("batch.max.size").hasMessageContaining("'lots'");
        assertThatThrownBy(() -> TeacherConfig.of(with("dead.letter.topic", "distill.soft-targets")))
                .hasMessageContaining("dead.letter.topic").hasMessageContaining("must differ from output.topic");
        assertThatThrownBy(() -> TeacherConfig.of(with("input.topic", "distill.dead-letters")))
                .hasMessageContaining("input.topic").hasMessageContaining("must differ");
        assertThatThrownBy(() -> TeacherConfig.of(with("input.format", "XML")))
                .hasMessageContaining("input.format").hasMessageContaining("'XML'");
        assertThatThrownBy(() -> TeacherConfig.of(with("teacher.failure.retries", "-1")))
                .hasMessageContaining("teacher.failure.retries").hasMessageContaining("'-1'").hasMessageContaining(">= 0");
        assertThatThrownBy(() -> TeacherConfig.of(with("bacth.max.size", "8")))
                .hasMessageContaining("unknown setting 'bacth.max.size'");
        assertThatThrownBy(() -> TeacherConfig.of(with("schema.registry.url", "ftp://r")))
                .hasMessageContaining("ftp://r");
    }

    private static Map<String, String> with(String k, String v) {
        Map<String, String> m = new java.util.HashMap<>(MINIMAL);
        m.put(k, v);
        return m;
    }
}
