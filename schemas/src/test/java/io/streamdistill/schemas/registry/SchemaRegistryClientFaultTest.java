package io.streamdistill.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.schemas.registry.FaultInjectingServer.Answer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Base64;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;

class SchemaRegistryClientFaultTest {
    private static final Schema SCHEMA = SchemaBuilder.record("R").fields().requiredString("a").endRecord();

    private static RegistryConfig.Builder fastRetries(String url) {
        return RegistryConfig.builder(url).retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50));
    }

    @Test
    void retriesThroughBrief5xxAndThenCachesTheId() throws Exception {
        try (var server = new FaultInjectingServer(n -> n <= 2
                ? new Answer(503, "{\"error_code\":50301,\"message\":\"warming up\"}")
                : new Answer(200, "{\"id\":7}"))) {
            var client = new SchemaRegistryClient(fastRetries(server.url()).build());
            assertThat(client.register("t-value", SCHEMA)).isEqualTo(7);
            assertThat(client.httpRequests()).isEqualTo(3);
            assertThat(client.register("t-value", SCHEMA)).isEqualTo(7);
            assertThat(client.schemaById(7)).isEqualTo(SCHEMA);
            assertThat(client.httpRequests()).as("answered from the cache").isEqualTo(3);
        }
    }

    @Test
    void aRegistryThatKeepsFailingRaisesAServerErrorNamingStatusAndCode() throws Exception {
        try (var server = new FaultInjectingServer(n -> new Answer(500, "{\"error_code\":50001,\"message\":\"store down\"}"))) {
            var client = new SchemaRegistryClient(fastRetries(server.url()).retryTimeout(Duration.ofMillis(300)).build());
            assertThatThrownBy(() -> client.register("t-value", SCHEMA))
                    .isInstanceOfSatisfying(RegistryServerException.class, e -> {
                        assertThat(e.httpStatus()).isEqualTo(500);
                        assertThat(e.errorCode()).isEqualTo(50001);
                        assertThat(e.reason()).isEqualTo("REGISTRY_SERVER_ERROR");
                    })
                    .hasMessageContaining("HTTP 500")
                    .hasMessageContaining("store down");
            assertThat(client.httpRequests()).as("it retried").isGreaterThan(1);
        }
    }

    @Test
    void anUnreachableRegistryRaisesUnavailableAfterRetrying() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        var client = new SchemaRegistryClient(fastRetries("http://127.0.0.1:" + closedPort)
                .retryTimeout(Duration.ofMillis(300)).build());
        assertThatThrownBy(() -> client.schemaById(1))
                .isInstanceOf(RegistryUnavailableException.class)
                .hasMessageContaining("could not be reached")
                .hasMessageContaining("schema.registry.url");
        assertThat(client.httpRequests()).isGreaterThan(1);
    }

    @Test
    void sendsBasicAuthAndReportsARefusalClearly() throws Exception {
        String expected = "Basic " + Base64.getEncoder().encodeToString("svc:s3cret".getBytes());
        try (var server = new FaultInjectingServer(n -> new Answer(401, "{\"error_code\":401,\"message\":\"Unauthorized\"}"))) {
            var client = new SchemaRegistryClient(fastRetries(server.url()).basicAuth("svc:s3cret").build());
            assertThatThrownBy(() -> client.register("t-value", SCHEMA))
                    .isInstanceOf(RegistryAuthException.class)
                    .hasMessageContaining("HTTP 401")
                    .hasMessageContaining(RegistryConfig.USER_INFO)
                    .hasMessageNotContaining("s3cret");
            assertThat(server.authorizations).containsOnly(expected);
            assertThat(client.httpRequests()).as("4xx is not retried").isEqualTo(1);
        }
    }

    @Test
    void maps4xxAnswersToTypedExceptions() throws Exception {
        try (var server = new FaultInjectingServer(n -> switch (n) {
            case 1 -> new Answer(422, "{\"error_code\":42201,\"message\":\"Invalid schema\"}");
            case 2 -> new Answer(409, "{\"error_code\":409,\"message\":\"Incompatible\"}");
            case 3 -> new Answer(404, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
            default -> new Answer(400, "<html>bad gateway config</html>");
        })) {
            var client = new SchemaRegistryClient(fastRetries(server.url()).build());
            assertThatThrownBy(() -> client.register("t-value", SCHEMA)).isInstanceOf(InvalidSchemaException.class)
                    .hasMessageContaining("Invalid schema");
            assertThatThrownBy(() -> client.register("t-value", SCHEMA)).isInstanceOf(IncompatibleSchemaException.class)
                    .hasMessageContaining("compatibility rule");
            assertThatThrownBy(() -> client.schemaById(42)).isInstanceOf(UnknownSchemaIdException.class)
                    .hasMessageContaining("schema id 42");
            assertThatThrownBy(() -> client.schemaById(43)).isInstanceOf(RegistryRequestException.class)
                    .hasMessageContaining("HTTP 400").hasMessageContaining("bad gateway config");
        }
    }
}
