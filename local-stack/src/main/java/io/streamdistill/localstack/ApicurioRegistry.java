package io.streamdistill.localstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apicurio Registry running as a child JVM bound to 127.0.0.1, with BACKWARD compatibility
 * as its global rule. It serves the Confluent API at {@link #confluentUrl()}. The child dies with
 * this JVM, even on SIGKILL (see {@link ParentWatchdog}). With a data directory its schemas (and
 * ids) survive a restart; without one they live in memory.
 */
public final class ApicurioRegistry implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ApicurioRegistry.class);
    public static final String CONFLUENT_API = "/apis/ccompat/v7";

    private final Path dataDir;
    private final boolean temporaryDir;
    private final Duration startupTimeout;
    private final String heap;
    private final String javaCommand;
    private final boolean persistent;
    private int port;
    private Process process;
    private OutputStream lifeline;
    private boolean closed;

    private ApicurioRegistry(Builder b) {
        try {
            this.temporaryDir = b.dataDir == null;
            this.dataDir = temporaryDir ? Files.createTempDirectory("streamdistill-registry-") : b.dataDir.toAbsolutePath();
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new LocalStackException("cannot create the registry directory " + b.dataDir + ": " + e.getMessage(), e);
        }
        this.port = b.port;
        this.startupTimeout = b.startupTimeout;
        this.heap = b.heap;
        this.javaCommand = b.javaCommand != null ? b.javaCommand
                : Path.of(System.getProperty("java.home"), "bin", "java").toString();
        this.persistent = b.persistent;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts the child JVM without waiting; {@link #awaitReady()} waits. Lets a caller start other things meanwhile. */
    public synchronized ApicurioRegistry launch() {
        if (closed) {
            throw new IllegalStateException("this registry was closed; build a new one");
        }
        if (process != null) {
            throw new IllegalStateException("the registry is already running at " + baseUrl() + " (pid " + process.pid() + ")");
        }
        RegistryDistribution dist = RegistryDistribution.locate();
        port = Ports.claim(port, "schema registry");
        Path watchdogClasses = ParentWatchdogInstaller.install(dataDir.resolve("watchdog-classes"));
        List<String> cmd = new ArrayList<>(List.of(javaCommand,
                "-Xmx" + heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dquarkus.http.host=127.0.0.1",
                "-Dquarkus.http.port=" + port,
                "-cp", watchdogClasses + java.io.File.pathSeparator + dist.runnerJar(),
                ParentWatchdog.class.getName(), String.valueOf(ProcessHandle.current().pid()), dist.mainClass()));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dataDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
        if (persistent) {
            pb.environment().put("REGISTRY_DATASOURCE_URL", "jdbc:h2:file:" + dataDir.resolve("registry-db") + ";DB_CLOSE_ON_EXIT=FALSE");
        }
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new LocalStackException("cannot start the registry JVM with " + javaCommand + ": " + e.getMessage(), e);
        }
        // The child's stdin pipe is its lifeline: the kernel closes it when this JVM dies in any way.
        lifeline = process.getOutputStream();
        LOG.info("starting Apicurio Registry {} on {} (pid {}, log {})", dist.version(), baseUrl(), process.pid(), logFile());
        return this;
    }

    /** Waits until the registry is ready, then sets the global compatibility rule to BACKWARD. */
    public ApicurioRegistry awaitReady() {
        Process p;
        synchronized (this) {
            p = process;
        }
        if (p == null) {
            throw new IllegalStateException("the registry was not launched");
        }
        long t0 = System.nanoTime();
        long deadline = t0 + startupTimeout.toNanos();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create(baseUrl() + "/health/ready")).timeout(Duration.ofSeconds(5)).build();
        while (true) {
            if (!p.isAlive()) {
                int exit = p.exitValue();
                stop();
                throw new LocalStackException("the registry JVM exited with code " + exit + " while starting. Last lines of "
                        + logFile() + ":\n" + tail(logFile(), 30));
            }
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    break;
                }
            } catch (IOException notYet) {
                // Not listening yet.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stop();
                throw new LocalStackException("interrupted while waiting for the registry", e);
            }
            if (System.nanoTime() > deadline) {
                stop();
                throw new LocalStackException("the registry at " + baseUrl() + " did not become ready within "
                        + startupTimeout.toSeconds() + " s; it was stopped. Last lines of " + logFile() + ":\n" + tail(logFile(), 30));
            }
            EmbeddedKafka.sleep(200);
        }
        setBackwardCompatibility(http);
        LOG.info("Apicurio Registry ready at {} in {} ms", confluentUrl(), (System.nanoTime() - t0) / 1_000_000);
        return this;
    }

    /** {@link #launch()} then {@link #awaitReady()}. */
    public ApicurioRegistry start() {
        launch();
        return awaitReady();
    }

    private void setBackwardCompatibility(HttpClient http) {
        HttpRequest put = HttpRequest.newBuilder(URI.create(confluentUrl() + "/config"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"compatibility\":\"BACKWARD\"}"))
                .build();
        try {
            HttpResponse<String> r = http.send(put, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new LocalStackException("the registry refused to set BACKWARD compatibility: HTTP " + r.statusCode()
                        + " " + r.body());
            }
        } catch (IOException e) {
            throw new LocalStackException("cannot set the registry's compatibility rule: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalStackException("interrupted", e);
        }
    }

    /** Stops the child JVM (SIGTERM, then SIGKILL after 15 s). Returns false if it was not running. */
    public synchronized boolean stop() {
        if (process == null) {
            return false;
        }
        Process p = process;
        process = null;
        ChildJvms.stop(p, lifeline, "the registry");
        return true;
    }

    /** Stops the registry and deletes a temporary data directory. Idempotent. */
    @Override
    public synchronized void close() {
        stop();
        if (!closed && temporaryDir) {
            Files2.deleteRecursively(dataDir);
        }
        closed = true;
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** The child's pid, or -1 when it is not running. */
    public synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    public synchronized int port() {
        return port;
    }

    /** {@code http://127.0.0.1:<port>}. */
    public synchronized String baseUrl() {
        if (port == 0) {
            throw new IllegalStateException("the registry has not been started yet");
        }
        return "http://127.0.0.1:" + port;
    }

    /** The Confluent-compatible API: the value for {@code schema.registry.url}. */
    public String confluentUrl() {
        return baseUrl() + CONFLUENT_API;
    }

    /** Apicurio's own v2 API, for Apicurio's serdes. */
    public String apicurioV2Url() {
        return baseUrl() + "/apis/registry/v2";
    }

    public Path logFile() {
        return dataDir.resolve("registry.log");
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    /** Copies the {@link ParentWatchdog} class file into a directory the child can use as its classpath. */
    public static final class ParentWatchdogInstaller {
        public static Path install(Path dir) {
            String resource = ParentWatchdog.class.getName().replace('.', '/') + ".class";
            Path target = dir.resolve(resource);
            try (InputStream in = ParentWatchdog.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new LocalStackException("cannot find " + resource + " on the classpath");
                }
                Files.createDirectories(target.getParent());
                Files.copy(in, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                return dir;
            } catch (IOException e) {
                throw new LocalStackException("cannot install the parent watchdog into " + dir + ": " + e.getMessage(), e);
            }
        }

        private ParentWatchdogInstaller() {
        }
    }

    public static final class Builder {
        private Path dataDir;
        private boolean persistent;
        private int port;
        private Duration startupTimeout = Duration.ofSeconds(120);
        private String heap = "256m";
        private String javaCommand;

        /** Where the registry keeps its log (and, when persistent, its database); null = a temporary dir. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** Keep schemas in an H2 file database under the data dir, so ids survive a restart. */
        public Builder persistent(boolean on) {
            this.persistent = on;
            return this;
        }

        /** The HTTP port on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = timeout;
            return this;
        }

        /** Maximum heap of the registry JVM, e.g. "256m". */
        public Builder heap(String heap) {
            this.heap = heap;
            return this;
        }

        /** The java executable for the child; default: this JVM's. */
        public Builder javaCommand(String javaCommand) {
            this.javaCommand = javaCommand;
            return this;
        }

        public ApicurioRegistry build() {
            return new ApicurioRegistry(this);
        }
    }
}
