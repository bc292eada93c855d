package io.streamdistill.trainer;

import io.streamdistill.student.Hashing;
import io.streamdistill.student.sync.ModelDelta;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.URI;
import java.util.UUID;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Merged sync rounds as files beside the artifacts ({@code <artifact.dir>/<student>.sync/}): the
 * sync topic carries only pointers, since a merged delta is megabytes. Each file has a unique name,
 * so a round written again after a restore never replaces one a reader may still be reading.
 */
final class SyncFiles {
    private final Path dir;

    SyncFiles(String artifactDir, String student) {
        this.dir = new Path(URI.create((artifactDir.endsWith("/") ? artifactDir : artifactDir + "/") + student + ".sync/"));
    }

    /** Writes the delta; returns its URI and sha256. */
    String[] write(long round, ModelDelta delta) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE, delta.bytes()));
        delta.write(new DataOutputStream(bytes));
        byte[] b = bytes.toByteArray();
        Path file = new Path(dir, "round-" + round + "-" + UUID.randomUUID() + ".delta");
        FileSystem fs = file.getFileSystem();
        fs.mkdirs(dir);
        try (FSDataOutputStream out = fs.create(file, FileSystem.WriteMode.NO_OVERWRITE)) {
            out.write(b);
            out.sync();
        }
        return new String[] {file.toUri().toString(), Hashing.sha256(b)};
    }

    static void delete(String uri) throws IOException {
        Path file = new Path(URI.create(uri));
        file.getFileSystem().delete(file, false);
    }

    static ModelDelta read(SyncPointer p) throws IOException {
        Path file = new Path(URI.create(p.file));
        byte[] b;
        if (!file.getFileSystem().exists(file)) {
            throw new IOException("sync round " + p.round + " of student '" + p.student + "' needs " + p.file + ", which is gone: "
                    + "the job was restored from a checkpoint older than its merger's cleanup allows");
        }
        try (FSDataInputStream in = file.getFileSystem().open(file)) {
            b = in.readAllBytes();
        }
        if (!Hashing.sha256(b).equals(p.sha256)) {
            throw new IOException("sync round " + p.round + " file " + p.file + " does not match its sha256");
        }
        return ModelDelta.read(new DataInputStream(new ByteArrayInputStream(b)));
    }
}
