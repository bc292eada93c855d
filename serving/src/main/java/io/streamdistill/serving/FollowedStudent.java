package io.streamdistill.serving;

import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import java.time.Duration;

/**
 * One student line followed on its checkpoint topic: the follower thread and the holder of the version it
 * has verified and loaded. What serve's HTTP endpoint and the Kafka Streams processor each answer from;
 * they take a lease per request and never see a version change under them.
 */
public final class FollowedStudent implements AutoCloseable {
    private final ModelHolder holder = new ModelHolder();
    private final TextTokenizer tokenizer;
    private final CheckpointFollower follower;
    private final Thread followerThread;

    /** @param tokenizerName the student's tokenizer, as the trainer's {@code student.tokenizer} */
    public FollowedStudent(CheckpointFollower.Settings settings, String tokenizerName) {
        this(settings, tokenizerName, m -> { });
    }

    /** @param beforeSwap runs on each new version before it serves ({@link CheckpointFollower}) */
    public FollowedStudent(CheckpointFollower.Settings settings, String tokenizerName, java.util.function.Consumer<ServedModel> beforeSwap) {
        this.tokenizer = StudentTokenizers.load(tokenizerName, 128);
        StudentRunner.initNative();
        this.follower = new CheckpointFollower(settings, tokenizer, holder, beforeSwap);
        // Loading a model runs native start-up code that overflowed default thread stacks (SIGSEGV).
        this.followerThread = new Thread(null, follower, "checkpoint-follower-" + settings.student(), 64L << 20);
        this.followerThread.setDaemon(true);
        this.followerThread.start();
    }

    public ModelHolder holder() {
        return holder;
    }

    public CheckpointFollower follower() {
        return follower;
    }

    /**
     * Waits until a version is loaded.
     *
     * @throws IllegalStateException when none is within {@code timeout}, saying why (nothing published yet, or the last refusal)
     */
    public ServedModel awaitFirstVersion(Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            ServedModel m = holder.peek();
            if (m != null) {
                return m;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("no version of " + what + " was loaded within " + timeout.toSeconds() + " s: "
                + (follower.lastRefusal() != null ? "refused " + follower.lastRefusal()
                : follower.caughtUp() ? "none is published yet" : "the checkpoint topic was not read to its end"));
    }

    @Override
    public void close() throws InterruptedException {
        follower.close();
        followerThread.join(10_000);
        holder.close();
        tokenizer.close();
    }
}
