package io.streamdistill.cli;

import io.streamdistill.schemas.Topics;
import io.streamdistill.serving.CheckpointFollower;
import io.streamdistill.serving.Serving;
import io.streamdistill.serving.StudentServer;
import io.streamdistill.teacher.cascade.CascadeTeacher;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code streamdistill serve --student NAME}: HTTP inference on the newest published version of a
 * student, swapped in without a failed request as new versions are published; {@code --version N} pins one.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a student over HTTP (POST /v1/predict), following its newest published version with hot reload.")
public final class ServeCommand implements Callable<Integer> {
    @Option(names = "--student", required = true, description = "the student's name (its checkpoint records' key)")
    String student;

    @Option(names = "--version", description = "serve this version only (pinned) instead of following the newest")
    Long version;

    @Option(names = "--port", defaultValue = "8090", description = "HTTP port (default: ${DEFAULT-VALUE}; 0 = any free port)")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "the address to listen on; 0.0.0.0 for every interface "
            + "(default: ${DEFAULT-VALUE})")
    String bind;

    @Option(names = "--max-body-bytes", defaultValue = "1048576", description = "larger request bodies get 413 (default: ${DEFAULT-VALUE})")
    int maxBodyBytes;

    @Option(names = "--max-texts", defaultValue = "256", description = "texts per request; more get 400 (default: ${DEFAULT-VALUE})")
    int maxTexts;

    @Option(names = "--max-text-chars", defaultValue = "10000", description = "characters per text; longer get 400 (default: ${DEFAULT-VALUE})")
    int maxTextChars;

    @Option(names = "--threads", defaultValue = "4", description = "request threads (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--checkpoints-topic", defaultValue = Topics.CHECKPOINTS, description = "(default: ${DEFAULT-VALUE})")
    String checkpointsTopic;

    @Option(names = "--tokenizer", defaultValue = "all-MiniLM-L6-v2",
            description = "the student's tokenizer, as the trainer's student.tokenizer (default: ${DEFAULT-VALUE})")
    String tokenizer;

    @Mixin
    CascadeOptions cascade;

    @Mixin
    ClusterOptions cluster;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
        }
        if (threads < 1 || threads > 256) {
            throw new IllegalArgumentException("--threads must be in 1..256, got " + threads);
        }
        if (version != null && version < 1) {
            throw new IllegalArgumentException("--version must be >= 1, got " + version);
        }
        cascade.target(); // checked before anything starts
        try (ClusterOptions.Cluster c = cluster.open();
             CascadeTeacher teacher = cascade.teacher(cluster.dataDir);
             Serving serving = new Serving(new CheckpointFollower.Settings(c.settings(), checkpointsTopic, student, version),
                     tokenizer, bind, port, threads, new StudentServer.Limits(maxBodyBytes, maxTexts, maxTextChars),
                     cascade.open(teacher, c, checkpointsTopic, student))) {
            System.out.printf("serving student '%s' (%s) on http://%s:%d/v1/predict; /v1/model, /metrics, /ready%n", student,
                    version == null ? "newest version, hot reload" : "pinned to version " + version, bind, serving.port());
            CountDownLatch forever = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(forever::countDown, "serve-shutdown"));
            try {
                forever.await();
            } catch (InterruptedException stop) {
                System.out.println("stopping");
            }
        }
        return 0;
    }
}
