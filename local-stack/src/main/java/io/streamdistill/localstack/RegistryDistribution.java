package io.streamdistill.localstack;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;
import java.util.jar.JarFile;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the Apicurio Registry distribution and unpacks it once into a cache directory. The build
 * resolves the distribution ({@code io.apicurio:apicurio-registry-app:<version>:tar.gz:all}) into
 * the local Maven repository; nothing is downloaded at run time.
 *
 * <p>Lookup order: {@code -Dstreamdistill.registry.home} or {@code $STREAMDISTILL_REGISTRY_HOME}
 * (an unpacked distribution); else the cache ({@code $STREAMDISTILL_CACHE_DIR}, default
 * {@code ~/.cache/streamdistill}), filled from the local Maven repository
 * ({@code -Dmaven.repo.local}, default {@code ~/.m2/repository}).
 */
public final class RegistryDistribution {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryDistribution.class);
    private static final String COMPLETE_MARKER = ".unpacked";

    private final Path home;
    private final Path runnerJar;
    private final String mainClass;
    private final String version;

    private RegistryDistribution(Path home, String version) {
        this.home = home;
        this.version = version;
        this.runnerJar = findRunnerJar(home);
        try (JarFile jar = new JarFile(runnerJar.toFile())) {
            this.mainClass = jar.getManifest().getMainAttributes().getValue("Main-Class");
        } catch (IOException e) {
            throw new LocalStackException("cannot read the registry runner jar " + runnerJar + ": " + e.getMessage(), e);
        }
        if (mainClass == null) {
            throw new LocalStackException("the registry runner jar " + runnerJar + " names no Main-Class");
        }
    }

    /** The version this build of local-stack runs (from the Maven build). */
    public static String expectedVersion() {
        Properties p = new Properties();
        try (InputStream in = RegistryDistribution.class.getResourceAsStream("/streamdistill-local-stack.properties")) {
            if (in == null) {
                throw new LocalStackException("streamdistill-local-stack.properties is missing from the classpath: "
                        + "local-stack was not built by Maven");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("apicurio.version");
    }

    /** Finds (and on first use unpacks) the distribution, as described on the class. */
    public static RegistryDistribution locate() {
        String version = expectedVersion();
        String explicit = System.getProperty("streamdistill.registry.home", System.getenv("STREAMDISTILL_REGISTRY_HOME"));
        if (explicit != null && !explicit.isBlank()) {
            return new RegistryDistribution(Path.of(explicit), version);
        }
        Path cache = cacheDir().resolve("apicurio-registry-" + version);
        if (Files.exists(cache.resolve(COMPLETE_MARKER))) {
            return new RegistryDistribution(cache, version);
        }
        Path archive = mavenRepository().resolve("io/apicurio/apicurio-registry-app/" + version
                + "/apicurio-registry-app-" + version + "-all.tar.gz");
        if (!Files.isRegularFile(archive)) {
            throw new LocalStackException("the Apicurio Registry distribution is not in the local Maven repository: " + archive
                    + " is missing. Build the project once with `mvn -pl local-stack -am install -DskipTests` (it resolves"
                    + " the distribution), or point -Dstreamdistill.registry.home / STREAMDISTILL_REGISTRY_HOME at an"
                    + " unpacked one.");
        }
        unpack(archive, cache);
        return new RegistryDistribution(cache, version);
    }

    public Path home() {
        return home;
    }

    public Path runnerJar() {
        return runnerJar;
    }

    public String mainClass() {
        return mainClass;
    }

    public String version() {
        return version;
    }

    static Path cacheDir() {
        String dir = System.getenv("STREAMDISTILL_CACHE_DIR");
        return dir != null && !dir.isBlank() ? Path.of(dir)
                : Path.of(System.getProperty("user.home"), ".cache", "streamdistill");
    }

    static Path mavenRepository() {
        String repo = System.getProperty("maven.repo.local");
        return repo != null && !repo.isBlank() ? Path.of(repo)
                : Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    private static Path findRunnerJar(Path home) {
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(home, "*-runner.jar")) {
            for (Path jar : jars) {
                return jar;
            }
        } catch (IOException e) {
            throw new LocalStackException("cannot read the registry distribution at " + home + ": " + e.getMessage(), e);
        }
        throw new LocalStackException("no *-runner.jar in the registry distribution at " + home
                + ": is it an unpacked apicurio-registry-app '-all' archive?");
    }

    /** Unpacks into a private temporary directory, then moves it into place in one step. */
    private static void unpack(Path archive, Path target) {
        long t0 = System.nanoTime();
        Path tmp;
        try {
            Files.createDirectories(target.getParent());
            tmp = Files.createTempDirectory(target.getParent(), target.getFileName() + ".tmp-");
            try (InputStream in = new GzipCompressorInputStream(new BufferedInputStream(Files.newInputStream(archive)));
                 TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                TarArchiveEntry entry;
                while ((entry = tar.getNextEntry()) != null) {
                    Path out = tmp.resolve(entry.getName()).normalize();
                    if (!out.startsWith(tmp)) {
                        throw new LocalStackException("refusing archive entry outside the target dir: " + entry.getName());
                    }
                    if (entry.isDirectory()) {
                        Files.createDirectories(out);
                    } else if (entry.isFile()) {
                        Files.createDirectories(out.getParent());
                        Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            Files.createFile(tmp.resolve(COMPLETE_MARKER));
        } catch (IOException e) {
            throw new LocalStackException("cannot unpack the registry distribution " + archive + " into " + target
                    + ": " + e.getMessage(), e);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            LOG.info("unpacked Apicurio Registry into {} in {} ms", target, (System.nanoTime() - t0) / 1_000_000);
        } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException raced) {
            // Another process unpacked it first; theirs is as good as ours.
            Files2.deleteRecursively(tmp);
        } catch (AtomicMoveNotSupportedException e) {
            Files2.deleteRecursively(tmp);
            throw new LocalStackException("the cache dir " + target.getParent() + " does not support atomic moves", e);
        } catch (IOException e) {
            Files2.deleteRecursively(tmp);
            if (!Files.exists(target.resolve(COMPLETE_MARKER))) {
                throw new LocalStackException("cannot move the unpacked registry into " + target + ": " + e.getMessage(), e);
            }
        }
    }
}
