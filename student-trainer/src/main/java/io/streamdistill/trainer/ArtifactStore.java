package io.streamdistill.trainer;

import java.io.IOException;
import java.net.URI;
import java.util.UUID;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Student files in Flink's FileSystem ({@code file://} by default; {@code s3://} and others
 * through Flink's plugins): {@code <base>/<student>/<version>/model.onnx}, written to a temporary
 * name and renamed, so a reader never sees half a file.
 */
public final class ArtifactStore {
    private final Path base;

    public ArtifactStore(String baseUri) {
        this.base = new Path(URI.create(baseUri.endsWith("/") ? baseUri : baseUri + "/"));
    }

    /** Writes the file and returns its URI. */
    URI write(String student, long version, byte[] bytes) throws IOException {
        Path dir = new Path(base, student + "/" + version);
        Path target = new Path(dir, "model.onnx");
        Path tmp = new Path(dir, "model.onnx.tmp-" + UUID.randomUUID());
        FileSystem fs = target.getFileSystem();
        fs.mkdirs(dir);
        try (FSDataOutputStream out = fs.create(tmp, FileSystem.WriteMode.NO_OVERWRITE)) {
            out.write(bytes);
            out.sync();
        }
        // A file left by an export that was never published (the job failed before its checkpoint) is replaced.
        if (fs.exists(target)) {
            fs.delete(target, false);
        }
        if (!fs.rename(tmp, target)) {
            throw new IOException("cannot rename " + tmp + " to " + target);
        }
        return target.toUri();
    }

    /**
     * The highest version that has a directory, or 0: keeps versions increasing when a job starts
     * without state, and keeps {@code finetune} off a number an unpublished export already holds.
     */
    public long highestVersion(String student) throws IOException {
        Path dir = new Path(base, student);
        FileSystem fs = dir.getFileSystem();
        if (!fs.exists(dir)) {
            return 0;
        }
        long max = 0;
        FileStatus[] entries = fs.listStatus(dir);
        if (entries != null) {
            for (FileStatus s : entries) {
                try {
                    max = Math.max(max, Long.parseLong(s.getPath().getName()));
                } catch (NumberFormatException notAVersion) {
                    // Some other file in the directory.
                }
            }
        }
        return max;
    }
}
