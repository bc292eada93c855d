package io.streamdistill.student.train;

import java.nio.charset.StandardCharsets;

/**
 * Which record ids are held out from training: those whose FNV-1a hash falls in the first
 * {@code percent} of 100 buckets. Stable across runs, machines and processes, so the trainer, a
 * replay and a monitor scoring published students all agree on the same slice.
 */
public final class HoldoutSlice {

    public static boolean contains(String id, int percent) {
        int h = 0x811c9dc5;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x01000193;
        }
        return Integer.remainderUnsigned(h, 100) < percent;
    }

    private HoldoutSlice() {
    }
}
