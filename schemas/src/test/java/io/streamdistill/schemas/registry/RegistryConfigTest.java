package io.streamdistill.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegistryConfigTest {

    @Test
    void readsConfluentStyleSettings() {
        RegistryConfig c = RegistryConfig.fromMap(Map.of(
                "schema.registry.url", "http://a:8081/, http://b:8081",
                "auto.register.schemas", "false",
                "basic.auth.credentials.source", "USER_INFO",
                "basic.auth.user.info", "svc:pw",
                "schema.registry.retry.timeout.ms", 1500,
                "bootstrap.servers", "ignored:9092"));
        assertThat(c.urls()).extracting(Object::toString).containsExactly("http://a:8081", "http://b:8081");
        assertThat(c.autoRegister()).isFalse();
        assertThat(c.userInfo()).isEqualTo("svc:pw");
        assertThat(c.retryTimeout()).isEqualTo(Duration.ofMillis(1500));
    }

    @Test
    void errorsNameTheBadKeyAndValue() {
        assertThatThrownBy(() -> RegistryConfig.fromMap(Map.of()))
                .hasMessageContaining("schema.registry.url is required");
        assertThatThrownBy(() -> RegistryConfig.fromMap(Map.of("schema.registry.url", "ftp://x")))
                .hasMessageContaining("'ftp://x'").hasMessageContaining("http://");
        assertThatThrownBy(() -> RegistryConfig.fromMap(Map.of("schema.registry.url", "http://x", "auto.register.schemas", "yes")))
                .hasMessageContaining("auto.register.schemas").hasMessageContaining("'yes'");
        assertThatThrownBy(() -> RegistryConfig.fromMap(Map.of("schema.registry.url", "http://x",
                "schema.registry.request.timeout.ms", "soon")))
                .hasMessageContaining("schema.registry.request.timeout.ms").hasMessageContaining("'soon'");
        assertThatThrownBy(() -> RegistryConfig.fromMap(Map.of("schema.registry.url", "http://x",
                "schema.registry.ssl.truststore.location", "/nonexistent/trust.jks")))
                .hasMessageContaining("/nonexistent/trust.jks").hasMessageContaining("schema.registry.ssl.truststore.location");
        assertThatThrownBy(() -> RegistryConfig.fromMap(Map.of("schema.registry.url", "http://x",
                "basic.auth.credentials.source", "SASL_INHERIT")))
                .hasMessageContaining("SASL_INHERIT").hasMessageContaining("USER_INFO");
    }

    @Test
    void neverPrintsThePassword() {
        RegistryConfig c = RegistryConfig.builder("http://x").basicAuth("svc:top-secret").build();
        assertThat(c.toString()).contains("svc:[hidden]").doesNotContain("top-secret");
        assertThatThrownBy(() -> RegistryConfig.builder("http://x").basicAuth("no-colon-secret").build())
                .hasMessageNotContaining("no-colon-secret");
    }
}
