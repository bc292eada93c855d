package io.streamdistill.student.transformer;

import io.streamdistill.student.tokenize.ByteTokenizer;
import io.streamdistill.student.train.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Texts as one token stream for language-model training, and the windows a step trains or evaluates on. */
public final class LmWindows {

    /** The texts' bytes, each followed by the end-of-text token. */
    public static int[] stream(List<String> texts) {
        List<int[]> parts = new ArrayList<>();
        int n = 0;
        for (String t : texts) {
            int[] ids = ByteTokenizer.encode(t);
            parts.add(ids);
            n += ids.length + 1;
        }
        int[] out = new int[n];
        int at = 0;
        for (int[] ids : parts) {
            System.arraycopy(ids, 0, out, at, ids.length);
            at += ids.length;
            out[at++] = ByteTokenizer.END_OF_TEXT;
        }
        return out;
    }

    /** {@code batch} windows of {@code context} tokens at offsets drawn from {@code seed}: the same for a step whether resumed or not. */
    public static int[][] random(int[] stream, int context, int batch, long seed) {
        if (stream.length <= context) {
            throw new IllegalArgumentException("a stream of " + stream.length + " tokens has no window of " + context);
        }
        Rng rng = new Rng(seed);
        int[][] out = new int[batch][];
        for (int b = 0; b < batch; b++) {
            int from = (int) Math.floor(rng.nextDouble() * (stream.length - context));
            out[b] = Arrays.copyOfRange(stream, from, from + context);
        }
        return out;
    }

    /** Consecutive windows of {@code context} tokens from the stream's start, at most {@code max}: a fixed evaluation set. */
    public static int[][] consecutive(int[] stream, int context, int max) {
        List<int[]> windows = new ArrayList<>();
        for (int from = 0; from + 1 < stream.length && windows.size() < max; from += context) {
            windows.add(Arrays.copyOfRange(stream, from, Math.min(stream.length, from + context)));
        }
        return windows.toArray(int[][]::new);
    }

    private LmWindows() {
    }
}
