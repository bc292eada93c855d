package io.streamdistill.flinkcluster;

import io.streamdistill.localstack.LocalStackException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Pattern;

/**
 * A module's runtime dependencies as Maven's {@code dependency:list} wrote them into a resource at
 * build time, matched to the jars of this JVM's classpath. How the cluster knows which jars are
 * Flink's (its lib/) and which are the job's (shipped with it), without a distribution or Maven at
 * run time.
 */
public final class ArtifactList {
    private static final Pattern ANSI = Pattern.compile("\u001b\\[[0-9;]*m");

    /** One dependency: Maven coordinates and the file name Maven gives its jar. */
    public record Artifact(String groupId, String artifactId, String version, String classifier) {
        public String fileName() {
            return artifactId + "-" + version + (classifier.isEmpty() ? "" : "-" + classifier) + ".jar";
        }

        public String key() {
            return groupId + ":" + artifactId;
        }
    }

    private final String resource;
    private final List<Artifact> artifacts;

    private ArtifactList(String resource, List<Artifact> artifacts) {
        this.resource = resource;
        this.artifacts = List.copyOf(artifacts);
    }

    /** The list in {@code resource} on this class's loader; a clear error when the module that carries it is missing. */
    public static ArtifactList read(String resource) {
        try (InputStream in = ArtifactList.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new LocalStackException("no " + resource + " on the classpath: the module that writes it at build time is "
                        + "not on this classpath (rebuild with mvn install)");
            }
            return parse(resource, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new LocalStackException("cannot read " + resource + ": " + e.getMessage(), e);
        }
    }

    /** {@code dependency:list} output: a header, then lines {@code group:artifact:type[:classifier]:version:scope[ -- module ...]}. */
    static ArtifactList parse(String resource, String text) {
        List<Artifact> out = new ArrayList<>();
        for (String raw : ANSI.matcher(text).replaceAll("").split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || !line.contains(":") || line.startsWith("The following")) {
                continue;
            }
            String[] p = line.split("\\s+")[0].split(":");
            if (p.length == 5) {
                out.add(new Artifact(p[0], p[1], p[3], ""));
            } else if (p.length == 6) {
                out.add(new Artifact(p[0], p[1], p[4], p[3]));
            }
        }
        return new ArtifactList(resource, out);
    }

    public List<Artifact> artifacts() {
        return artifacts;
    }

    public Set<String> keys() {
        Set<String> s = new LinkedHashSet<>();
        artifacts.forEach(a -> s.add(a.key()));
        return s;
    }

    /**
     * The classpath jars of the listed artifacts that {@code keep} accepts, in list order. A jar of
     * another version of the same artifact counts (the module that reads the list may resolve a
     * dependency to another version than the module that wrote it): it is what this JVM runs.
     *
     * @throws LocalStackException naming the first listed jar the classpath lacks
     */
    public List<Path> jars(List<Path> classpath, java.util.function.Predicate<Artifact> keep) {
        List<Path> out = new ArrayList<>();
        for (Artifact a : artifacts) {
            if (!keep.test(a)) {
                continue;
            }
            out.add(find(a, classpath));
        }
        return out;
    }

    private Path find(Artifact a, List<Path> classpath) {
        Path sameArtifact = null;
        Pattern name = Pattern.compile(Pattern.quote(a.artifactId()) + "-\\d[^/]*?"
                + (a.classifier().isEmpty() ? "" : "-" + Pattern.quote(a.classifier())) + "\\.jar");
        for (Path p : classpath) {
            String file = p.getFileName().toString();
            if (file.equals(a.fileName())) {
                return p;
            }
            if (sameArtifact == null && name.matcher(file).matches()
                    && (!p.toString().contains("/repository/") || p.toString().contains("/" + a.groupId().replace('.', '/') + "/"))) {
                sameArtifact = p;
            }
        }
        if (sameArtifact == null) {
            throw new LocalStackException(a.fileName() + " (" + a.key() + ", listed in " + resource + ") is not on this "
                    + "JVM's classpath");
        }
        return sameArtifact;
    }

    /**
     * This JVM's classpath: {@code java.class.path} plus the jars each jar's manifest names in its
     * {@code Class-Path} (how {@code java -jar streamdistill-cli.jar} finds its lib/).
     */
    public static List<Path> classpath() {
        Set<Path> out = new LinkedHashSet<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!e.isBlank()) {
                addWithManifest(Path.of(e).toAbsolutePath().normalize(), out);
            }
        }
        return new ArrayList<>(out);
    }

    private static void addWithManifest(Path entry, Set<Path> out) {
        if (!out.add(entry) || !Files.isRegularFile(entry) || !entry.toString().endsWith(".jar")) {
            return;
        }
        try (JarFile jar = new JarFile(entry.toFile())) {
            Manifest m = jar.getManifest();
            String cp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
            if (cp == null) {
                return;
            }
            for (String ref : cp.trim().split("\\s+")) {
                try {
                    URL url = new URL(entry.toUri().toURL(), ref);
                    // A missing entry is skipped, as the JVM does (teacher-service's jar in ~/.m2 names a lib/ that is not there).
                    if ("file".equals(url.getProtocol()) && Files.exists(Path.of(url.toURI()))) {
                        addWithManifest(Path.of(url.toURI()).normalize(), out);
                    }
                } catch (URISyntaxException | IOException | IllegalArgumentException bad) {
                    // An entry the JVM would ignore as well.
                }
            }
        } catch (IOException unreadable) {
            // Not a jar the JVM could use either.
        }
    }
}
