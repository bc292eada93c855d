package io.streamdistill.serving;

/**
 * A running server for one student: the follower thread that keeps the newest (or pinned) version
 * loaded, and the HTTP endpoint. What {@code streamdistill serve} runs.
 */
public final class Serving implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Serving.class);
    private final FollowedStudent student;
    private final StudentServer server;

    public Serving(CheckpointFollower.Settings settings, String tokenizerName, int port, int threads) {
        this(settings, tokenizerName, "127.0.0.1", port, threads, StudentServer.Limits.DEFAULTS);
    }

    /** @param bind the address to listen on (127.0.0.1, or 0.0.0.0 for every interface) */
    public Serving(CheckpointFollower.Settings settings, String tokenizerName, String bind, int port, int threads,
                   StudentServer.Limits limits) {
        this(settings, tokenizerName, bind, port, threads, limits, null);
    }

    /** @param cascade null, or the teacher that answers the texts the student is unsure of ({@link Cascade}) */
    public Serving(CheckpointFollower.Settings settings, String tokenizerName, String bind, int port, int threads,
                   StudentServer.Limits limits, Cascade cascade) {
        this.student = new FollowedStudent(settings, tokenizerName, cascade == null ? m -> { } : m -> {
            Cascade.Calibration c = cascade.calibration(m);
            LOG.info("cascade for '{}' version {}: threshold {}, on {} held-out texts: {} to the teacher, agreement {} (the student"
                            + " alone {})", m.student(), m.version(), String.format("%.4f", c.threshold()), c.holdout(),
                    String.format("%.3f", c.teacherShare()), String.format("%.4f", c.agreement()), String.format("%.4f", c.studentAgreement()));
        });
        this.server = new StudentServer(bind, port, threads, student.holder(), student.follower()::refused, limits, cascade);
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
