package io.streamdistill.flinkcluster;

import io.streamdistill.localstack.LocalStackException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * The jars a job ships to a cluster when it runs from this JVM's classpath instead of one shaded
 * job jar: the job's runtime artifacts the cluster does not provide ({@link FlinkLib}), and the
 * code of the job's own modules. A module that is a classes directory (a reactor build) is packed
 * into a jar first: a cluster takes only jar files.
 */
public final class JobJars {
    /** Group of the project's own modules: they come from the given classes' code sources, not from the list. */
    private static final String OWN_GROUP = "io.streamdistill";

    /**
     * @param listResource the job's {@code dependency:list} resource
     * @param workDir      where packed classes directories go
     * @param ownClasses   one class from each of the job's own modules
     */
    public static List<Path> of(String listResource, Path workDir, Class<?>... ownClasses) {
        return of(listResource, workDir, List.of(), ownClasses);
    }

    /**
     * Like {@link #of(String, Path, Class[])}, leaving out {@code inLib} too ({@code group:artifact}):
     * what the cluster's lib/ already holds besides Flink.
     */
    public static List<Path> of(String listResource, Path workDir, Collection<String> inLib, Class<?>... ownClasses) {
        Set<String> provided = new java.util.HashSet<>(FlinkLib.provided());
        provided.addAll(inLib);
        Set<Path> out = new LinkedHashSet<>();
        for (Class<?> c : ownClasses) {
            out.add(asJar(codeOf(c), workDir));
        }
        out.addAll(ArtifactList.read(listResource).jars(ArtifactList.classpath(),
                a -> !a.groupId().equals(OWN_GROUP) && !provided.contains(a.key())));
        return new ArrayList<>(out);
    }

    /** The classpath jars of the named artifacts ({@code group:artifact}) of a job's list: what goes into a cluster's lib/. */
    public static List<Path> named(String listResource, Collection<String> keys) {
        ArtifactList list = ArtifactList.read(listResource);
        Set<String> missing = new LinkedHashSet<>(keys);
        missing.removeAll(list.keys());
        if (!missing.isEmpty()) {
            throw new LocalStackException(missing + " are not dependencies listed in " + listResource);
        }
        return list.jars(ArtifactList.classpath(), a -> keys.contains(a.key()));
    }

    private static Path codeOf(Class<?> c) {
        CodeSource src = c.getProtectionDomain().getCodeSource();
        if (src == null) {
            throw new LocalStackException("cannot tell where " + c.getName() + " was loaded from");
        }
        try {
            return Path.of(src.getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new LocalStackException("bad code source of " + c.getName() + ": " + src.getLocation(), e);
        }
    }

    /** A jar as it is; a classes directory packed into {@code <workDir>/<module>.jar}. */
    static Path asJar(Path code, Path workDir) {
        if (Files.isRegularFile(code)) {
            return code;
        }
        // target/classes -> the module directory's name
        Path module = code.getParent() != null && code.getParent().getParent() != null ? code.getParent().getParent() : code;
        Path jar = workDir.resolve(module.getFileName() + "-classes.jar");
        try {
            Files.createDirectories(workDir);
            try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os);
                 Stream<Path> files = Files.walk(code)) {
                for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                    out.putNextEntry(new JarEntry(code.relativize(f).toString().replace('\\', '/')));
                    Files.copy(f, out);
                    out.closeEntry();
                }
            }
            return jar;
        } catch (IOException e) {
            throw new LocalStackException("cannot pack " + code + " into " + jar + ": " + e.getMessage(), e);
        }
    }

    private JobJars() {
    }
}
