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
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real S3-compatible object store: S3Proxy (its file-system back end) as a child JVM on 127.0.0.1, with
 * AWS signature v2/v4 authentication and one bucket. Objects live under the data directory, so they survive
 * {@link #stop()} and {@link #start()} (which keeps the port: a client sees the store go down and come back).
 * The credentials are made at the first start, kept in the data directory (owner-only), and never logged.
 */
public final class S3ProxyServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(S3ProxyServer.class);
    private static final String MAIN_CLASS = "org.gaul.s3proxy.Main";
    /** The bucket the stack's components write to. */
    public static final String BUCKET = "streamdistill";

    private final Path dataDir;
    private final boolean temporaryDir;
    private final String javaCommand;
    private final Duration startupTimeout;
    private final String accessKey;
    private final String secretKey;
    private int port;
    private Process process;
    private OutputStream lifeline;
    private boolean closed;

    private S3ProxyServer(Builder b) {
        try {
            this.temporaryDir = b.dataDir == null;
            this.dataDir = temporaryDir ? Files.createTempDirectory("streamdistill-s3-") : b.dataDir.toAbsolutePath();
            Files.createDirectories(dataDir.resolve("objects").resolve(BUCKET));
            String[] keys = credentials(dataDir.resolve("credentials.properties"));
            this.accessKey = keys[0];
            this.secretKey = keys[1];
        } catch (IOException e) {
            throw new LocalStackException("cannot prepare the object store's directory " + b.dataDir + ": " + e.getMessage(), e);
        }
        this.port = b.port;
        this.startupTimeout = b.startupTimeout;
        this.javaCommand = b.javaCommand != null ? b.javaCommand
                : Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts the child JVM and waits until it answers HTTP; again after {@link #stop()}, on the same port. */
    public synchronized S3ProxyServer start() {
        if (closed) {
            throw new IllegalStateException("this object store was closed; build a new one");
        }
        if (process != null) {
            throw new IllegalStateException("the object store is already running at " + endpoint() + " (pid " + process.pid() + ")");
        }
        port = Ports.claim(port, "object store");
        Path config = writeConfig();
        Path watchdogClasses = ApicurioRegistry.ParentWatchdogInstaller.install(dataDir.resolve("watchdog-classes"));
        List<String> cmd = new ArrayList<>(List.of(javaCommand, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dlogback.configurationFile=" + writeLogConfig(),
                "-cp", watchdogClasses + java.io.File.pathSeparator + classPath(),
                ParentWatchdog.class.getName(), String.valueOf(ProcessHandle.current().pid()), MAIN_CLASS,
                "--properties", config.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dataDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
        long t0 = System.nanoTime();
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new LocalStackException("cannot start the object store JVM with " + javaCommand + ": " + e.getMessage(), e);
        }
        lifeline = process.getOutputStream();
        awaitReady(process, t0);
        LOG.info("S3-compatible object store (S3Proxy) ready at {} in {} ms, bucket '{}' (pid {}, log {})", endpoint(),
                (System.nanoTime() - t0) / 1_000_000, BUCKET, process.pid(), logFile());
        return this;
    }

    private void awaitReady(Process p, long t0) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest probe = HttpRequest.newBuilder(URI.create(endpoint() + "/")).timeout(Duration.ofSeconds(5)).build();
        long deadline = t0 + startupTimeout.toNanos();
        while (true) {
            if (!p.isAlive()) {
                int exit = p.exitValue();
                stop();
                throw new LocalStackException("the object store JVM exited with code " + exit + " while starting. Last lines of "
                        + logFile() + ":\n" + ApicurioRegistry.tail(logFile(), 30));
            }
            try {
                http.send(probe, HttpResponse.BodyHandlers.discarding());
                return; // Any answer (an unsigned request gets 403) means it serves.
            } catch (IOException notYet) {
                // Not listening yet.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stop();
                throw new LocalStackException("interrupted while waiting for the object store", e);
            }
            if (System.nanoTime() > deadline) {
                stop();
                throw new LocalStackException("the object store at " + endpoint() + " did not answer within "
                        + startupTimeout.toSeconds() + " s; it was stopped. Last lines of " + logFile() + ":\n"
                        + ApicurioRegistry.tail(logFile(), 30));
            }
            EmbeddedKafka.sleep(100);
        }
    }

    /** Stops the child JVM; its objects stay. Returns false if it was not running. */
    public synchronized boolean stop() {
        if (process == null) {
            return false;
        }
        Process p = process;
        process = null;
        ChildJvms.stop(p, lifeline, "the object store");
        LOG.info("object store at {} stopped", endpoint());
        return true;
    }

    /** Stops it and deletes a temporary data directory. Idempotent. */
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

    /** {@code http://127.0.0.1:<port>}: the value for {@code s3.endpoint}. */
    public synchronized String endpoint() {
        if (port == 0) {
            throw new IllegalStateException("the object store has not been started yet");
        }
        return "http://127.0.0.1:" + port;
    }

    /** {@code s3://streamdistill/<path>}. */
    public String uri(String path) {
        return "s3://" + BUCKET + "/" + (path.startsWith("/") ? path.substring(1) : path);
    }

    /**
     * The settings every component takes to reach this store ({@code s3.endpoint}, {@code s3.access-key},
     * {@code s3.secret-key}, {@code s3.path.style.access}): the keys Flink's S3 file system reads.
     */
    public Map<String, String> clientSettings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("s3.endpoint", endpoint());
        s.put("s3.access-key", accessKey);
        s.put("s3.secret-key", secretKey);
        s.put("s3.path.style.access", "true");
        return s;
    }

    /** Where an object of the bucket lies on disk (for tests that alter one behind the store's back). */
    public Path objectFile(String key) {
        return dataDir.resolve("objects").resolve(BUCKET).resolve(key);
    }

    public Path logFile() {
        return dataDir.resolve("s3proxy.log");
    }

    private Path writeConfig() {
        Properties p = new Properties();
        p.setProperty("s3proxy.endpoint", endpoint());
        p.setProperty("s3proxy.authorization", "aws-v2-or-v4");
        p.setProperty("s3proxy.identity", accessKey);
        p.setProperty("s3proxy.credential", secretKey);
        p.setProperty("jclouds.provider", "filesystem");
        p.setProperty("jclouds.filesystem.basedir", dataDir.resolve("objects").toString());
        Path file = dataDir.resolve("s3proxy.properties");
        writeOwnerOnly(file, p, "S3Proxy's settings, written by local-stack at each start");
        return file;
    }

    private Path writeLogConfig() {
        Path file = dataDir.resolve("s3proxy-logback.xml");
        String xml = """
                <configuration>
                  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
                  </appender>
                  <root level="WARN"><appender-ref ref="OUT"/></root>
                  <logger name="org.gaul.s3proxy" level="INFO"/>
                </configuration>
                """;
        try {
            Files.writeString(file, xml, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new LocalStackException("cannot write " + file + ": " + e.getMessage(), e);
        }
        return file;
    }

    /** The key pair of this data directory: made once, random, readable by its owner only. */
    private static String[] credentials(Path file) throws IOException {
        Properties p = new Properties();
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            }
        } else {
            SecureRandom random = new SecureRandom();
            byte[] id = new byte[10];
            byte[] secret = new byte[30];
            random.nextBytes(id);
            random.nextBytes(secret);
            p.setProperty("access-key", "SD" + HexFormat.of().withUpperCase().formatHex(id));
            p.setProperty("secret-key", java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(secret));
            writeOwnerOnly(file, p, "The local object store's credentials");
        }
        return new String[] {p.getProperty("access-key"), p.getProperty("secret-key")};
    }

    private static void writeOwnerOnly(Path file, Properties p, String comment) {
        try {
            Files.deleteIfExists(file);
            Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            try (OutputStream out = Files.newOutputStream(file)) {
                p.store(out, comment);
            }
        } catch (IOException e) {
            throw new LocalStackException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** S3Proxy's jars, as the build of streamdistill-local-stack-s3 resolved them. */
    static String classPath() {
        String resource = "/io/streamdistill/localstack/s3proxy.classpath";
        try (InputStream in = S3ProxyServer.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new LocalStackException(resource + " is missing from the class path: build streamdistill-local-stack-s3"
                        + " (mvn install -pl local-stack -am)");
            }
            String cp = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            for (String jar : cp.split(java.io.File.pathSeparator)) {
                if (!Files.isRegularFile(Path.of(jar))) {
                    throw new LocalStackException("S3Proxy's jar " + jar + " is missing (the local Maven repository changed since"
                            + " the build): build again with mvn install -pl local-stack -am");
                }
            }
            return cp;
        } catch (IOException e) {
            throw new LocalStackException("cannot read " + resource + ": " + e.getMessage(), e);
        }
    }

    public static final class Builder {
        private Path dataDir;
        private int port;
        private Duration startupTimeout = Duration.ofSeconds(60);
        private String javaCommand;

        /** Where objects, credentials and the log live; null = a temporary directory deleted on close. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** The HTTP port on 127.0.0.1; 0 (the default) picks a free one at the first start. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = timeout;
            return this;
        }

        public Builder javaCommand(String javaCommand) {
            this.javaCommand = javaCommand;
            return this;
        }

        public S3ProxyServer build() {
            return new S3ProxyServer(this);
        }
    }
}
