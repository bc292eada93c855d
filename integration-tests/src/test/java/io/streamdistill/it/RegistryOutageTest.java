package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.localstack.ApicurioRegistry;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;

class RegistryOutageTest {

    /** A client keeps retrying while the registry is down and succeeds once it is back, without an error. */
    @Test
    void aRequestMadeWhileTheRegistryIsDownSucceedsWhenItComesBack() throws Exception {
        Schema schema = SchemaBuilder.record("Outage").fields().requiredString("a").endRecord();
        try (ApicurioRegistry registry = ApicurioRegistry.builder().build().start()) {
            SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.builder(registry.confluentUrl())
                    .retryBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                    .retryTimeout(Duration.ofSeconds(120)).build());
            registry.stop();

            CompletableFuture<Integer> id = CompletableFuture.supplyAsync(() -> client.register("outage-value", schema));
            Thread.sleep(1500);
            assertThat(id).as("still retrying while the registry is down").isNotDone();

            registry.start(); // same port as before
            assertThat(id.get(120, TimeUnit.SECONDS)).isPositive();
            assertThat(client.httpRequests()).as("it retried").isGreaterThan(1);
            assertThat(client.schemaById(id.get())).isEqualTo(schema);
        }
    }
}
