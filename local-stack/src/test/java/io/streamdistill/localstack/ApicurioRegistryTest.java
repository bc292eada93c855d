package io.streamdistill.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApicurioRegistryTest {

    @Test
    void startsWithBackwardCompatibilityAndRefusesASecondStart() throws Exception {
        try (ApicurioRegistry registry = ApicurioRegistry.builder().build().start()) {
            String config = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(registry.confluentUrl() + "/config")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(config).contains("BACKWARD");

            assertThatThrownBy(registry::start)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already running at " + registry.baseUrl());

            long pid = registry.pid();
            assertThat(registry.stop()).isTrue();
            assertThat(registry.stop()).as("stopping a stopped registry is a no-op").isFalse();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).isIn(Optional.empty(), Optional.of(false));
        }
    }

    @Test
    void aRegistryThatNeverBecomesReadyIsStoppedWithAClearError() {
        try (ApicurioRegistry registry = ApicurioRegistry.builder().startupTimeout(Duration.ofMillis(300)).build()) {
            registry.launch();
            long pid = registry.pid();
            assertThatThrownBy(registry::awaitReady)
                    .isInstanceOf(LocalStackException.class)
                    .hasMessageContaining("did not become ready within")
                    .hasMessageContaining("registry.log");
            assertThat(registry.isRunning()).isFalse();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).isIn(Optional.empty(), Optional.of(false));
        }
    }

    /** Proves the registry child dies with its parent even when the parent is SIGKILLed. */
    @Test
    void theRegistryDiesWhenItsParentIsKilled(@TempDir Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process parent = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                RegistryHolderMain.class.getName(), dir.toString())
                .redirectErrorStream(true).start();
        long childPid = -1;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            String line;
            while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
                if (line.startsWith("REGISTRY_PID ")) {
                    childPid = Long.parseLong(line.substring("REGISTRY_PID ".length()).trim());
                    break;
                }
            }
            assertThat(childPid).as("the holder JVM started a registry").isPositive();
            ProcessHandle child = ProcessHandle.of(childPid).orElseThrow();
            assertThat(child.isAlive()).isTrue();

            parent.destroyForcibly(); // SIGKILL: no shutdown hook runs in the parent
            parent.waitFor(10, TimeUnit.SECONDS);

            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (child.isAlive() && System.nanoTime() < waitUntil) {
                Thread.sleep(100);
            }
            assertThat(child.isAlive()).as("registry pid %d must exit once its parent is killed", childPid).isFalse();
        } finally {
            parent.destroyForcibly();
            if (childPid > 0) {
                ProcessHandle.of(childPid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /** Run in a separate JVM by the test above: starts a registry, says its pid, and waits to be killed. */
    public static final class RegistryHolderMain {
        public static void main(String[] args) throws Exception {
            ApicurioRegistry registry = ApicurioRegistry.builder().dataDir(Path.of(args[0])).build().start();
            System.out.println("REGISTRY_PID " + registry.pid());
            System.out.flush();
            Thread.sleep(TimeUnit.MINUTES.toMillis(5));
            registry.close();
        }
    }

    @Test
    void keepsSchemasAcrossARestartWithADataDir(@TempDir Path dir) throws Exception {
        String schema = "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"R\\\",\\\"fields\\\":[]}\"}";
        String id;
        try (ApicurioRegistry registry = ApicurioRegistry.builder().dataDir(dir).persistent(true).build().start()) {
            id = post(registry.confluentUrl() + "/subjects/s-value/versions", schema);
        }
        try (ApicurioRegistry registry = ApicurioRegistry.builder().dataDir(dir).persistent(true).build().start()) {
            assertThat(post(registry.confluentUrl() + "/subjects/s-value", schema)).contains("\"id\":" + idOf(id));
            assertThat(List.of(get(registry.confluentUrl() + "/subjects"))).anySatisfy(s -> assertThat(s).contains("s-value"));
        }
    }

    private static String idOf(String json) {
        return json.replaceAll(".*\"id\":(\\d+).*", "$1");
    }

    private static String post(String url, String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    private static String get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
