package io.streamdistill.localstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * What a secured embedded broker needs, made on first start under {@code <dir>}: a CA and a broker
 * certificate signed by it (with the JDK's keytool; SAN 127.0.0.1 and localhost), a truststore
 * holding the CA, and one SCRAM-SHA-512 principal per component with a random password. Nothing of it
 * is committed anywhere: the files live in the stack's data directory (readable by its owner only)
 * and are reused when the stack starts again on that directory.
 */
public final class BrokerSecurity {
    /** The principals: the broker's own (inter-broker, super user) and one per component. */
    public static final String ADMIN = "admin";
    public static final String TEACHER = "teacher";
    public static final String TRAINER = "trainer";
    public static final String MONITOR = "monitor";
    public static final String SERVE = "serve";
    /** Whoever writes texts into the pipeline (produce, the demo's replay of its corpus). */
    public static final String PRODUCER = "producer";
    public static final List<String> PRINCIPALS = List.of(ADMIN, TEACHER, TRAINER, MONITOR, SERVE, PRODUCER);
    /** The broker certificate's subject: the controller listener's client principal, a super user. */
    static final String BROKER_DN = "CN=streamdistill-broker";
    public static final String MECHANISM = "SCRAM-SHA-512";

    private final Path dir;
    private final String storePassword;
    private final Map<String, String> passwords;

    private BrokerSecurity(Path dir, String storePassword, Map<String, String> passwords) {
        this.dir = dir;
        this.storePassword = storePassword;
        this.passwords = passwords;
    }

    /** Loads what an earlier start made under {@code dir}, or makes it. */
    public static BrokerSecurity in(Path dir) {
        try {
            Files.createDirectories(dir);
            Path credentials = dir.resolve("credentials.properties");
            if (Files.isRegularFile(credentials) && Files.isRegularFile(dir.resolve("broker.p12"))
                    && Files.isRegularFile(dir.resolve("truststore.p12"))) {
                Properties p = new Properties();
                try (InputStream in = Files.newInputStream(credentials)) {
                    p.load(in);
                }
                Map<String, String> passwords = new LinkedHashMap<>();
                for (String principal : PRINCIPALS) {
                    String pw = p.getProperty("user." + principal);
                    if (pw == null) {
                        throw new LocalStackException(credentials + " has no password for '" + principal + "': delete " + dir
                                + " to make new credentials (the broker's data must go with it)");
                    }
                    passwords.put(principal, pw);
                }
                return new BrokerSecurity(dir, p.getProperty("store.password"), passwords);
            }
            return create(dir);
        } catch (IOException e) {
            throw new LocalStackException("cannot prepare the secure stack's certificates in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static BrokerSecurity create(Path dir) throws IOException {
        String store = secret();
        Map<String, String> passwords = new LinkedHashMap<>();
        for (String principal : PRINCIPALS) {
            passwords.put(principal, secret());
        }
        Path ca = dir.resolve("ca.p12");
        Path broker = dir.resolve("broker.p12");
        Path trust = dir.resolve("truststore.p12");
        for (Path p : List.of(ca, broker, trust, dir.resolve("broker.csr"), dir.resolve("broker.crt"), dir.resolve("ca.crt"))) {
            Files.deleteIfExists(p);
        }
        keytool(dir, "-genkeypair", "-alias", "ca", "-dname", "CN=streamdistill-local-ca", "-keyalg", "RSA", "-keysize", "2048",
                "-ext", "bc:c", "-validity", "3650", "-keystore", ca.toString(), "-storetype", "PKCS12", "-storepass", store);
        keytool(dir, "-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-storepass", store,
                "-file", dir.resolve("ca.crt").toString());
        keytool(dir, "-genkeypair", "-alias", "broker", "-dname", BROKER_DN, "-keyalg", "RSA", "-keysize", "2048",
                "-validity", "3650", "-keystore", broker.toString(), "-storetype", "PKCS12", "-storepass", store);
        keytool(dir, "-certreq", "-alias", "broker", "-keystore", broker.toString(), "-storepass", store,
                "-file", dir.resolve("broker.csr").toString());
        keytool(dir, "-gencert", "-alias", "ca", "-keystore", ca.toString(), "-storepass", store, "-validity", "3650",
                "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-ext", "KU=digitalSignature,keyEncipherment", "-ext", "EKU=serverAuth,clientAuth",
                "-rfc", "-infile", dir.resolve("broker.csr").toString(), "-outfile", dir.resolve("broker.crt").toString());
        keytool(dir, "-importcert", "-noprompt", "-alias", "ca", "-file", dir.resolve("ca.crt").toString(), "-keystore",
                broker.toString(), "-storepass", store);
        keytool(dir, "-importcert", "-noprompt", "-alias", "broker", "-file", dir.resolve("broker.crt").toString(), "-keystore",
                broker.toString(), "-storepass", store);
        keytool(dir, "-importcert", "-noprompt", "-alias", "ca", "-file", dir.resolve("ca.crt").toString(), "-keystore",
                trust.toString(), "-storetype", "PKCS12", "-storepass", store);
        Files.deleteIfExists(dir.resolve("broker.csr"));
        Properties p = new Properties();
        p.setProperty("store.password", store);
        passwords.forEach((k, v) -> p.setProperty("user." + k, v));
        Path credentials = dir.resolve("credentials.properties");
        try (OutputStream out = Files.newOutputStream(credentials)) {
            p.store(out, "Generated by the local stack at its first secure start: test credentials, never to be committed");
        }
        for (Path f : List.of(credentials, ca, broker, trust)) {
            ownerOnly(f);
        }
        return new BrokerSecurity(dir, store, passwords);
    }

    private static void ownerOnly(Path f) {
        try {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException | IOException notPosix) {
            // A file system without POSIX permissions: the data directory's own protection applies.
        }
    }

    private static String secret() {
        byte[] b = new byte[18];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void keytool(Path dir, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new LocalStackException("keytool " + args[0] + " failed: " + output.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalStackException("interrupted while running keytool", e);
        }
    }

    public String password(String principal) {
        String pw = passwords.get(principal);
        if (pw == null) {
            throw new IllegalArgumentException("no principal '" + principal + "' in the secure stack; there are " + PRINCIPALS);
        }
        return pw;
    }

    public Path truststore() {
        return dir.resolve("truststore.p12");
    }

    public Path keystore() {
        return dir.resolve("broker.p12");
    }

    /** The password of the keystores and the truststore. */
    public String storePassword() {
        return storePassword;
    }

    /** The CA certificate (PEM), for clients that take one (the registry client, curl). */
    public Path caCertificate() {
        return dir.resolve("ca.crt");
    }

    /** Kafka client settings for a component: SASL_SSL with its SCRAM principal, trusting the stack's CA. */
    public Map<String, String> clientSettings(String principal) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("security.protocol", "SASL_SSL");
        m.put("sasl.mechanism", MECHANISM);
        m.put("sasl.jaas.config", jaas(principal, password(principal)));
        m.put("ssl.truststore.location", truststore().toString());
        m.put("ssl.truststore.password", storePassword);
        m.put("ssl.truststore.type", "PKCS12");
        return m;
    }

    static String jaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user + "\" password=\"" + password + "\";";
    }

    /** The broker's settings: SASL_SSL for clients and between brokers, mTLS on the controller listener, ACLs enforced. */
    Map<String, String> brokerSettings(int brokerPort, int controllerPort) {
        Map<String, String> p = new HashMap<>();
        p.put("listeners", "SASL_SSL://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "SASL_SSL://127.0.0.1:" + brokerPort);
        p.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,CONTROLLER:SSL");
        p.put("inter.broker.listener.name", "SASL_SSL");
        p.put("sasl.enabled.mechanisms", MECHANISM);
        p.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
        p.put("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config", jaas(ADMIN, password(ADMIN)));
        for (String prefix : List.of("", "listener.name.controller.")) {
            p.put(prefix + "ssl.keystore.location", keystore().toString());
            p.put(prefix + "ssl.keystore.password", storePassword);
            p.put(prefix + "ssl.key.password", storePassword);
            p.put(prefix + "ssl.keystore.type", "PKCS12");
            p.put(prefix + "ssl.truststore.location", truststore().toString());
            p.put(prefix + "ssl.truststore.password", storePassword);
            p.put(prefix + "ssl.truststore.type", "PKCS12");
        }
        // Only the broker's own certificate opens the controller listener.
        p.put("listener.name.controller.ssl.client.auth", "required");
        p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.put("allow.everyone.if.no.acl.found", "false");
        p.put("super.users", "User:" + ADMIN + ";User:" + BROKER_DN);
        return p;
    }

    /** For formatting the log directory: every principal's SCRAM credential, so the broker knows them before it starts. */
    List<String> scramArguments() {
        List<String> out = new ArrayList<>();
        passwords.forEach((user, pw) -> out.add(MECHANISM + "=[name=" + user + ",password=" + pw + "]"));
        return out;
    }
}
