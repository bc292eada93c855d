package io.streamdistill.serving;

import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;

/**
 * A running server for one student: the follower thread that keeps the newest (or pinned) version
 * loaded, and the HTTP endpoint. What {@code streamdistill serve} runs.
 */
public final class Serving implements AutoCloseable {
    private final ModelHolder holder = new ModelHolder();
    private final TextTokenizer tokenizer;
    private final CheckpointFollower follower;
    private final Thread followerThread;
    private final StudentServer server;

    public Serving(CheckpointFollower.Settings settings, String tokenizerName, int port, int threads) {
        this(settings, tokenizerName, "127.0.0.1", port, threads, StudentServer.Limits.DEFAULTS);
    }

    /** @param bind the address to listen on (127.0.0.1, or 0.0.0.0 for every interface) */
    public Serving(CheckpointFollower.Settings settings, String tokenizerName, String bind, int port, int threads,
                   StudentServer.Limits limits) {
        this.tokenizer = StudentTokenizers.load(tokenizerName, 128);
        StudentRunner.initNative();
        this.follower = new CheckpointFollower(settings, tokenizer, holder);
        // Loading a model runs native start-up code that overflowed default thread stacks (SIGSEGV).
        this.followerThread = new Thread(null, follower, "checkpoint-follower", 64L << 20);
        this.followerThread.setDaemon(true);
        this.followerThread.start();
        this.server = new StudentServer(bind, port, threads, holder, follower::refused, limits);
    }

    public ModelHolder holder() {
        return holder;
    }

    public CheckpointFollower follower() {
        return follower;
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() throws InterruptedException {
        server.close();
        follower.close();
        followerThread.join(10_000);
        holder.close();
        tokenizer.close();
    }
}
