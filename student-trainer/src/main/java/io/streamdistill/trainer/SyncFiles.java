package io.streamdistill.trainer;

import io.streamdistill.student.Hashing;
import io.streamdistill.student.sync.ModelDelta;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.Learners;
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
 * so a round written again after a restore never replaces one a reader may still be reading. A
 * restore at a higher {@code train.parallelism} hands the restored trainer over through a file here too.
 */
final class SyncFiles {
    private final Path dir;

    SyncFiles(String artifactDir, String student) {
        this.dir = new Path(URI.create((artifactDir.endsWith("/") ? artifactDir : artifactDir + "/") + student + ".sync/"));
    }

    /** Writes the delta; returns its URI and sha256. */
    String[] write(long round, ModelDelta delta) throws IOException {
        byte[] b = delta.toBytes();
        Path file = new Path(dir, "round-" + round + "-" + UUID.randomUUID() + ".delta");
        FileSystem fs = file.getFileSystem();
        fs.mkdirs(dir);
        try (FSDataOutputStream out = fs.create(file, FileSystem.WriteMode.NO_OVERWRITE)) {
            out.write(b);
            out.sync();
        }
        return new String[] {file.toUri().toString(), Hashing.sha256(b)};
    }

    /**
     * Where subtask 0 leaves the trainer it restored from a single trainer's checkpoint for the other
     * subtasks (restore at a higher {@code train.parallelism}): named by job run and restored checkpoint,
     * so every attempt restoring the same checkpoint in the same run finds the same file.
     */
    Path handoff(String run, long checkpoint) {
        return new Path(dir, "handoff-" + run + "-" + checkpoint + ".trainer");
    }

    /** Writes the trainer to {@link #handoff} atomically (a reader sees all of it or no file); returns its URI. */
    String writeHandoff(String run, long checkpoint, Learner trainer) throws IOException {
        dir.getFileSystem().mkdirs(dir);
        Path file = handoff(run, checkpoint);
        atomically(file, out -> trainer.writeTo(out));
        return file.toUri().toString();
    }

    /** Waits up to {@code timeout} for {@link #handoff} and reads it. */
    Learner awaitHandoff(String run, long checkpoint, java.time.Duration timeout) throws IOException, InterruptedException {
        Path file = handoff(run, checkpoint);
        awaitFile(file, timeout, "training subtask 0 did not hand over the restored trainer");
        return readTrainer(file);
    }

    /** Waits up to {@code timeout} for {@code file}; then an error saying {@code what}, naming the file. */
    private static void awaitFile(Path file, java.time.Duration timeout, String what) throws IOException, InterruptedException {
        FileSystem fs = file.getFileSystem();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!fs.exists(file)) {
            if (System.nanoTime() > deadline) {
                throw new IOException(what + " in " + timeout.toSeconds() + " s: no " + file
                        + " (artifact.dir must be a file system every TaskManager shares)");
            }
            Thread.sleep(100);
        }
    }

    private static Learner readTrainer(Path file) throws IOException {
        try (FSDataInputStream in = file.getFileSystem().open(file)) {
            return Learners.readFrom(new java.io.BufferedInputStream(in, 1 << 20));
        }
    }

    /**
     * What a subtask restored from a checkpoint of N &gt; 1 subtasks at another M &gt; 1 leaves for
     * subtask 0, which folds all N states ({@link ReplicaState#consolidate}): each state's metadata,
     * and the trainer of the one it ranks highest. The trainer goes first, so a reader that sees a
     * state's metadata also finds its trainer when there is one. Both by rename (all or nothing).
     */
    void writeRescaled(String run, long checkpoint, int oldSubtask, byte[] meta, Learner trainer) throws IOException {
        FileSystem fs = dir.getFileSystem();
        fs.mkdirs(dir);
        if (trainer != null) {
            atomically(rescaled(run, checkpoint, oldSubtask, "trainer"), out -> trainer.writeTo(out));
        }
        atomically(rescaled(run, checkpoint, oldSubtask, "meta"), out -> out.write(meta));
    }

    Path rescaled(String run, long checkpoint, int oldSubtask, String kind) {
        return new Path(dir, "rescale-" + run + "-" + checkpoint + "-" + oldSubtask + "." + kind);
    }

    /** Waits up to {@code timeout} for the metadata of old subtask {@code oldSubtask}'s state. */
    byte[] awaitRescaledMeta(String run, long checkpoint, int oldSubtask, java.time.Duration timeout)
            throws IOException, InterruptedException {
        Path file = rescaled(run, checkpoint, oldSubtask, "meta");
        awaitFile(file, timeout, "the training subtask given old subtask " + oldSubtask + "'s state did not leave it");
        try (FSDataInputStream in = file.getFileSystem().open(file)) {
            return in.readAllBytes();
        }
    }

    /** The trainer a subtask left beside old subtask {@code oldSubtask}'s metadata, or null when it left none. */
    Learner rescaledTrainer(String run, long checkpoint, int oldSubtask) throws IOException {
        Path file = rescaled(run, checkpoint, oldSubtask, "trainer");
        return file.getFileSystem().exists(file) ? readTrainer(file) : null;
    }

    private interface Writer {
        void write(java.io.OutputStream out) throws IOException;
    }

    private void atomically(Path file, Writer writer) throws IOException {
        Path partial = new Path(dir, file.getName() + "." + UUID.randomUUID() + ".partial");
        FileSystem fs = file.getFileSystem();
        try (FSDataOutputStream out = fs.create(partial, FileSystem.WriteMode.NO_OVERWRITE)) {
            java.io.BufferedOutputStream buffered = new java.io.BufferedOutputStream(out, 1 << 20);
            writer.write(buffered);
            buffered.flush();
            out.sync();
        }
        fs.delete(file, false);
        if (!fs.rename(partial, file)) {
            throw new IOException("could not rename " + partial + " to " + file);
        }
    }

    /** Removes the directory with every round and handoff file in it (the job no longer trains in parallel). */
    void deleteAll() throws IOException {
        FileSystem fs = dir.getFileSystem();
        if (fs.exists(dir)) {
            fs.delete(dir, true);
        }
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
        return ModelDelta.fromBytes(b);
    }
}
