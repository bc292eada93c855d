package io.streamdistill.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The secured broker: SASL_SSL with one SCRAM principal per component, and ACLs the broker enforces. */
class SecureStackTest {
    @TempDir
    static Path dir;
    static LocalStack stack;

    @BeforeAll
    static void start() {
        stack = LocalStack.builder().dataDir(dir).secure(true).topics(Topics.ALL, 1).build().start();
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    private static Map<String, Object> client(String principal) {
        Map<String, Object> m = new HashMap<>(stack.clientSettings(principal));
        m.put("bootstrap.servers", stack.bootstrapServers());
        m.put("max.block.ms", "15000");
        m.put("request.timeout.ms", "10000");
        m.put("delivery.timeout.ms", "15000");
        return m;
    }

    private static void send(Map<String, Object> config, String topic) throws Exception {
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(topic, "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8)))
                    .get(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void eachComponentWritesWhereItsAclsAllowAndNowhereElse() throws Exception {
        send(client(BrokerSecurity.PRODUCER), Topics.TEXT);
        send(client(BrokerSecurity.TEACHER), Topics.SOFT_TARGETS);
        send(client(BrokerSecurity.TRAINER), Topics.CHECKPOINTS);
        send(client(BrokerSecurity.TRAINER), Topics.DEAD_LETTERS); // soft targets it cannot read
        assertThatThrownBy(() -> send(client(BrokerSecurity.TEACHER), Topics.CHECKPOINTS))
                .hasRootCauseInstanceOf(TopicAuthorizationException.class)
                .rootCause().hasMessageContaining(Topics.CHECKPOINTS);
        // With train.parallelism > 1 the trainer creates its sync topic, and only it may write there.
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(client(BrokerSecurity.TRAINER))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(Topics.CHECKPOINT_SYNC, 1, (short) 1)))
                    .all().get(20, TimeUnit.SECONDS);
        }
        send(client(BrokerSecurity.TRAINER), Topics.CHECKPOINT_SYNC);
        assertThatThrownBy(() -> send(client(BrokerSecurity.TEACHER), Topics.CHECKPOINT_SYNC))
                .hasRootCauseInstanceOf(TopicAuthorizationException.class);
        // serve may write nowhere, so its producer is refused already when it asks for a producer id.
        assertThatThrownBy(() -> send(client(BrokerSecurity.SERVE), Topics.CHECKPOINTS))
                .hasRootCauseInstanceOf(org.apache.kafka.common.errors.ClusterAuthorizationException.class);
    }

    @Test
    void aWrongPasswordIsRefusedAtOnce() {
        Map<String, Object> wrong = client(BrokerSecurity.TEACHER);
        wrong.put("sasl.jaas.config", BrokerSecurity.jaas(BrokerSecurity.TEACHER, "not-the-password"));
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> send(wrong, Topics.SOFT_TARGETS))
                .hasRootCauseInstanceOf(SaslAuthenticationException.class)
                .rootCause().hasMessageContaining("invalid credentials");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("no endless retry").isLessThan(Duration.ofSeconds(20));
    }

    @Test
    void plaintextToTheTlsPortIsRefused() {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", stack.bootstrapServers(), "request.timeout.ms", "3000",
                "default.api.timeout.ms", "6000"))) {
            assertThatThrownBy(() -> admin.listTopics().names().get(10, TimeUnit.SECONDS))
                    .isInstanceOfAny(ExecutionException.class, java.util.concurrent.TimeoutException.class);
        }
    }

    private static io.streamdistill.schemas.registry.SchemaRegistryClient registry(Map<String, String> settings) {
        Map<String, Object> m = new HashMap<>(settings);
        m.put("schema.registry.url", stack.registryUrl());
        return new io.streamdistill.schemas.registry.SchemaRegistryClient(io.streamdistill.schemas.registry.RegistryConfig.fromMap(m));
    }

    @Test
    void theRegistryIsServedOverTlsWithBasicAuth() throws Exception {
        assertThat(stack.registryUrl()).startsWith("https://127.0.0.1:");
        org.apache.avro.Schema schema = org.apache.avro.SchemaBuilder.record("Probe").fields().requiredString("a").endRecord();
        int id = new io.streamdistill.schemas.serde.AvroSerializer<org.apache.avro.generic.GenericRecord>(
                registry(stack.registrySettings(BrokerSecurity.PRODUCER))).schemaId("secure-probe", schema);
        assertThat(id).isPositive();

        Map<String, String> wrong = new HashMap<>(stack.registrySettings(BrokerSecurity.PRODUCER));
        wrong.put("basic.auth.user.info", BrokerSecurity.PRODUCER + ":not-the-password");
        assertThatThrownBy(() -> new io.streamdistill.schemas.serde.AvroSerializer<org.apache.avro.generic.GenericRecord>(registry(wrong))
                .schemaId("secure-probe-2", schema))
                .isInstanceOf(io.streamdistill.schemas.registry.RegistryAuthException.class).hasMessageContaining("HTTP 401");

        // Plain HTTP to the TLS port gets no answer from the registry.
        java.net.http.HttpClient plain = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertThatThrownBy(() -> plain.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(stack.registryUrl()
                        .replace("https://", "http://") + "/subjects")).timeout(Duration.ofSeconds(5)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(java.io.IOException.class);
    }

    @Test
    void credentialsAndCertificatesStayInTheDataDirectory() {
        BrokerSecurity again = BrokerSecurity.in(dir.resolve("secure"));
        assertThat(again.password(BrokerSecurity.TEACHER)).isEqualTo(stack.security().password(BrokerSecurity.TEACHER));
        assertThat(again.truststore()).isRegularFile();
        assertThat(List.copyOf(stack.clientSettings(BrokerSecurity.SERVE).keySet()))
                .contains("security.protocol", "sasl.mechanism", "sasl.jaas.config", "ssl.truststore.location");
    }
}
