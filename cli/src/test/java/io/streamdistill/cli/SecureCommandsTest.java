package io.streamdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.localstack.BrokerSecurity;
import io.streamdistill.localstack.LocalStack;
import io.streamdistill.schemas.Topics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Commands on the secure stack take their principal through --client-config / --client; wrong credentials fail in one line. */
class SecureCommandsTest {

    @Test
    void produceWithAPrincipalsClientFileAndAWrongPasswordInOneLine(@TempDir Path dir) throws Exception {
        try (LocalStack stack = LocalStack.builder().dataDir(dir.resolve("stack")).secure(true).topics(Topics.ALL, 1).build().start()) {
            Path producer = dir.resolve("producer.properties");
            java.util.Properties p = new java.util.Properties();
            LocalStackCommand.clientFile(stack, BrokerSecurity.PRODUCER).forEach(p::setProperty);
            try (var w = Files.newBufferedWriter(producer)) {
                p.store(w, null);
            }
            Path texts = dir.resolve("texts.txt");
            Files.writeString(texts, "one secured line\nanother secured line\n");
            assertThat(Main.run("produce", texts.toString(), "--client-config", producer.toString())).isZero();

            String wrongJaas = "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"producer\" password=\"nope\";";
            PrintStream saved = System.err;
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            try {
                assertThat(Main.run("produce", texts.toString(), "--client-config", producer.toString(), "--client",
                        "kafka.sasl.jaas.config=" + wrongJaas)).isEqualTo(2);
            } finally {
                System.setErr(saved);
            }
            List<String> lines = err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("streamdistill:")).toList();
            assertThat(lines).hasSize(1);
            assertThat(lines.get(0)).contains("refused the credentials in --client kafka.sasl.jaas.config (principal 'producer')")
                    .doesNotContain("nope");
            assertThat(err.toString(StandardCharsets.UTF_8)).as("no stack trace").doesNotContain("\tat ");
            assertThat(Map.copyOf(LocalStackCommand.clientFile(stack, BrokerSecurity.SERVE))).containsKeys("kafka.security.protocol",
                    "kafka.sasl.jaas.config", "basic.auth.user.info", "schema.registry.ssl.truststore.location");
        }
    }
}
