package io.streamdistill.student.train;

import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.math.Kernels;
import io.streamdistill.student.transformer.TransformerTrainer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;

/** Reads any {@link Learner}'s state back, choosing the architecture by the state's first four bytes. */
public final class Learners {

    /** Reads the state {@link Learner#writeTo} wrote, leaving the stream just after it. */
    public static Learner readFrom(InputStream stream, Gemm gemm) {
        // Pushed back, not buffered: nothing past the state is read from the caller's stream.
        PushbackInputStream in = new PushbackInputStream(stream, 4);
        byte[] head = new byte[4];
        try {
            int n = in.readNBytes(head, 0, 4);
            in.unread(head, 0, n);
        } catch (IOException e) {
            throw new IllegalArgumentException("the trainer state is truncated: " + e.getMessage(), e);
        }
        if (java.nio.ByteBuffer.wrap(head).getInt() == TransformerTrainer.MAGIC) {
            return TransformerTrainer.readFrom(in, gemm);
        }
        return StudentTrainer.readFrom(in);
    }

    /** Like {@link #readFrom(InputStream, Gemm)} with the matrix kernel this JVM runs fastest. */
    public static Learner readFrom(InputStream stream) {
        return readFrom(stream, defaultGemm());
    }

    /** The matrix kernel learners made or read here compute with: the fastest this JVM runs ({@link Kernels#gemm()}). */
    public static Gemm defaultGemm() {
        return Kernels.gemm();
    }

    public static Learner fromBytes(byte[] state, Gemm gemm) {
        return readFrom(new java.io.ByteArrayInputStream(state), gemm);
    }

    private Learners() {
    }
}
