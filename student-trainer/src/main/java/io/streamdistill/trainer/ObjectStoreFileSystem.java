package io.streamdistill.trainer;

import io.streamdistill.artifacts.ObjectStoreSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.plugin.DefaultPluginManager;
import org.apache.flink.core.plugin.DirectoryBasedPluginFinder;
import org.apache.flink.core.plugin.PluginDescriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes {@code s3://} a Flink file system in this JVM, for a trainer on a local MiniCluster and for
 * {@code finetune}: Flink's S3 file system ({@code flink-s3-fs-hadoop}) loaded as Flink loads it on a
 * cluster, as a plugin in a class loader of its own (it carries unshaded Jackson and Guava), configured
 * with the component's {@code s3.*} settings. A Flink cluster does this itself from its {@code plugins/}
 * directory and {@code config.yaml} (docs/serving.md, "Artifacts on an object store").
 */
public final class ObjectStoreFileSystem {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectStoreFileSystem.class);
    /** Keeps s3a from deleting parent "directory" markers after each write: a request per level, and slow on some stores. */
    private static final String MARKERS = "s3.directory.marker.retention";

    /** Whether these settings need an object store: an {@code s3.*} key, or a URI value with an {@code s3} scheme. */
    public static boolean needed(Map<String, String> settings) {
        return settings.entrySet().stream().anyMatch(e -> e.getKey().startsWith(ObjectStoreSettings.PREFIX)
                || e.getValue() != null && (e.getValue().startsWith("s3://") || e.getValue().startsWith("s3a://")));
    }

    /**
     * (Re)initialises Flink's file systems in this JVM with the S3 plugin and the {@code s3.*} entries of
     * {@code settings} (checked first: an incomplete key pair or a bad endpoint is refused naming the key).
     */
    public static synchronized void initialize(Map<String, String> settings) {
        Map<String, String> s3 = ObjectStoreSettings.only(settings);
        ObjectStoreSettings checked = ObjectStoreSettings.from(s3);
        Configuration conf = new Configuration();
        s3.forEach(conf::setString);
        if (!s3.containsKey(MARKERS)) {
            conf.setString(MARKERS, "keep");
        }
        if (checked.region() != null && !s3.containsKey("s3.endpoint.region")) {
            conf.setString("s3.endpoint.region", checked.region());
        }
        Collection<PluginDescriptor> plugins = plugins();
        FileSystem.initialize(conf, new DefaultPluginManager(plugins, ObjectStoreFileSystem.class.getClassLoader(),
                CoreOptions.getPluginParentFirstLoaderPatterns(conf)));
        LOG.info("s3:// through Flink's S3 file system plugin ({}), {}", plugins.iterator().next().getPluginResourceURLs()[0], checked);
    }

    /** {@code FLINK_PLUGINS_DIR} when set (Flink's own variable), else the plugin jar the build put in the local Maven repository. */
    private static Collection<PluginDescriptor> plugins() {
        String dir = System.getenv("FLINK_PLUGINS_DIR");
        try {
            if (dir != null && !dir.isBlank()) {
                Collection<PluginDescriptor> found = new DirectoryBasedPluginFinder(Path.of(dir)).findPlugins();
                if (found.isEmpty()) {
                    throw new IllegalStateException("FLINK_PLUGINS_DIR " + dir + " holds no plugin (expected e.g. s3-fs-hadoop/*.jar)");
                }
                return found;
            }
            Path jar = mavenRepository().resolve(pluginPath());
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException("Flink's S3 file system plugin is not in the local Maven repository (" + jar
                        + "): build the project once (mvn install -pl student-trainer -am), or set FLINK_PLUGINS_DIR to a Flink"
                        + " plugins directory holding s3-fs-hadoop");
            }
            return List.of(new PluginDescriptor("s3-fs-hadoop", new URL[] {jar.toUri().toURL()}, new String[0]));
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list FLINK_PLUGINS_DIR " + dir, e);
        }
    }

    private static String pluginPath() {
        Properties p = new Properties();
        try (InputStream in = ObjectStoreFileSystem.class.getResourceAsStream("/streamdistill-build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String path = p.getProperty("flink.s3.plugin");
        if (path == null || path.contains("${")) {
            throw new IllegalStateException("streamdistill-build.properties names no S3 plugin: student-trainer was not built by Maven");
        }
        return path;
    }

    private static Path mavenRepository() {
        String local = System.getProperty("maven.repo.local");
        return local != null && !local.isBlank() ? Path.of(local) : Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    private ObjectStoreFileSystem() {
    }
}
