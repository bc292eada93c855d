package io.streamdistill.trainer;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.UUID;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Student files in Flink's FileSystem ({@code file://} by default; {@code s3://} and others
 * through Flink's plugins): {@code <base>/<student>/<version>/model.onnx}, written to a temporary
 * name and renamed, so a reader never sees half a file.
 *
 * <p>Every writer of a student line (the trainer, {@code finetune}) takes its version number with
 * {@link #claim}, which creates the version's directory: a number is held by one writer only, and
 * is above every number already in the store. A file is never replaced: an export that was never
 * published (its job failed before the checkpoint) keeps its number, and the next export takes the
 * next one, so versions may skip a number but are never published twice.
 */
public final class ArtifactStore {
    static final String FILE = "model.onnx";
    /** Marks a claimed version directory where the file system has no atomic directory creation. */
    static final String CLAIM = ".claimed";
    private final Path base;

    public ArtifactStore(String baseUri) {
        this.base = new Path(URI.create(baseUri.endsWith("/") ? baseUri : baseUri + "/"));
    }

    /**
     * Claims the lowest version number that is at least {@code atLeast} and above every version directory of
     * {@code student} in the store, by creating its directory, and returns it. Atomic on {@code file:} (a directory
     * creation fails when the directory exists); on object stores through Flink's FileSystem, which offers no
     * create-if-absent, a claim marker is written after a check, which leaves a window of one request.
     */
    public long claim(String student, long atLeast) throws IOException {
        long version = Math.max(atLeast, highestVersion(student) + 1);
        for (int tries = 0; tries < 1000; tries++, version++) {
            if (create(new Path(base, student + "/" + version))) {
                return version;
            }
        }
        throw new IOException("could not claim a version of '" + student + "' in " + base + " from " + atLeast
                + ": 1000 numbers in a row were taken");
    }

    private static boolean create(Path dir) throws IOException {
        URI uri = dir.toUri();
        if ("file".equals(uri.getScheme())) {
            java.nio.file.Path local = Paths.get(uri);
            Files.createDirectories(local.getParent());
            try {
                Files.createDirectory(local);
                return true;
            } catch (FileAlreadyExistsException taken) {
                return false;
            }
        }
        FileSystem fs = dir.getFileSystem();
        if (fs.exists(dir)) {
            FileStatus[] entries = fs.listStatus(dir);
            if (entries != null && entries.length > 0) {
                return false;
            }
        }
        fs.mkdirs(dir);
        try (FSDataOutputStream out = fs.create(new Path(dir, CLAIM), FileSystem.WriteMode.NO_OVERWRITE)) {
            out.sync();
        } catch (IOException taken) {
            if (fs.exists(new Path(dir, CLAIM))) {
                return false;
            }
            throw taken;
        }
        return true;
    }

    /**
     * Writes the file of a version this writer claimed and returns its URI.
     *
     * @throws IllegalStateException when the version already has a file: nothing replaces a written version
     */
    public URI write(String student, long version, byte[] bytes) throws IOException {
        Path dir = new Path(base, student + "/" + version);
        Path target = new Path(dir, FILE);
        FileSystem fs = target.getFileSystem();
        if (fs.exists(target)) {
            throw new IllegalStateException(target + " exists: version " + version + " of '" + student + "' was written"
                    + " already, and a written version is never replaced (claim a number first)");
        }
        fs.mkdirs(dir);
        Path tmp = new Path(dir, FILE + ".tmp-" + UUID.randomUUID());
        try (FSDataOutputStream out = fs.create(tmp, FileSystem.WriteMode.NO_OVERWRITE)) {
            out.write(bytes);
            out.sync();
        }
        if (fs.exists(target) || !fs.rename(tmp, target)) {
            fs.delete(tmp, false);
            throw new IOException("cannot rename " + tmp + " to " + target + (fs.exists(target) ? ": it exists" : ""));
        }
        return target.toUri();
    }

    /**
     * The highest version that has a directory, or 0: keeps versions increasing when a job starts
     * without state, and {@link #claim} above every number any writer took.
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
