package io.streamdistill.student.train;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Float arrays in trainer states: the length, then the values big-endian, copied in pieces so that a
 * big array never needs one buffer of its size.
 */
public final class FloatArrays {
    private static final int PIECE = 1 << 16;

    public static void write(DataOutputStream out, float[] a) throws IOException {
        out.writeInt(a.length);
        ByteBuffer buf = ByteBuffer.allocate(Math.min(a.length, PIECE) * 4).order(ByteOrder.BIG_ENDIAN);
        for (int from = 0; from < a.length; from += PIECE) {
            int n = Math.min(PIECE, a.length - from);
            buf.clear();
            buf.asFloatBuffer().put(a, from, n);
            out.write(buf.array(), 0, n * 4);
        }
    }

    /** Reads what {@link #write} wrote into {@code into}, which must have the written length. */
    public static void read(DataInputStream in, float[] into) throws IOException {
        int n = in.readInt();
        if (n != into.length) {
            throw new IOException("an array has " + n + " values where the config implies " + into.length);
        }
        byte[] raw = new byte[Math.min(n, PIECE) * 4];
        for (int from = 0; from < n; from += PIECE) {
            int count = Math.min(PIECE, n - from);
            in.readFully(raw, 0, count * 4);
            ByteBuffer.wrap(raw, 0, count * 4).order(ByteOrder.BIG_ENDIAN).asFloatBuffer().get(into, from, count);
        }
    }

    private FloatArrays() {
    }
}
