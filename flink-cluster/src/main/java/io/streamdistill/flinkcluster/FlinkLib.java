package io.streamdistill.flinkcluster;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * What a Flink 2.2 distribution's lib/ would hold, taken from this JVM's classpath: flink-runtime,
 * flink-streaming-java, flink-clients, flink-runtime-web and their dependencies, and log4j. This
 * module's build lists them ({@code META-INF/streamdistill/flink-lib.list}).
 */
public final class FlinkLib {
    static final String LIST = "META-INF/streamdistill/flink-lib.list";

    /** The list of the Flink runtime's artifacts. */
    public static ArtifactList artifacts() {
        return ArtifactList.read(LIST);
    }

    /** The Flink runtime's jars on this JVM's classpath. */
    public static List<Path> jars() {
        return artifacts().jars(ArtifactList.classpath(), a -> true);
    }

    /** group:artifact of every jar the cluster itself provides: a job need not ship these. */
    public static Set<String> provided() {
        return artifacts().keys();
    }

    private FlinkLib() {
    }
}
