package io.streamdistill.serving;

/**
 * A running server for one student: the follower thread that keeps the newest (or pinned) version
 * loaded, and the HTTP endpoint. What {@code streamdistill serve} runs.
 */
public final class Serving implements AutoCloseable {
    private final FollowedStudent student;
    private final StudentServer server;

    public Serving(CheckpointFollower.Settings settings, String tokenizerName, int port, int threads) {
        this(settings, tokenizerName, "127.0.0.1", port, threads, StudentServer.Limits.DEFAULTS);
    }

    /** @param bind the address to listen on (127.0.0.1, or 0.0.0.0 for every interface) */
    public Serving(CheckpointFollower.Settings settings, String tokenizerName, String bind, int port, int threads,
                   StudentServer.Limits limits) {
        this.student = new FollowedStudent(settings, tokenizerName);
        this.server = new StudentServer(bind, port, threads, student.holder(), student.follower()::refused, limits);
    }

    public ModelHolder holder() {
        return student.holder();
    }

    public CheckpointFollower follower() {
        return student.follower();
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() throws InterruptedException {
        server.close();
        student.close();
    }
}
