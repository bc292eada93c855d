package io.streamdistill.trainer;

import java.io.IOException;
import java.net.URI;
import java.util.Optional;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Finds what a restarted job resumes from. Flink lays retained checkpoints out as
 * {@code <dir>/<job id>/chk-<n>/_metadata}; a savepoint is a directory with a {@code _metadata} file.
 * Works on any Flink file system (file, s3, hdfs), like the checkpoints themselves.
 */
public final class RetainedCheckpoints {
    private static final String METADATA = "_metadata";

    /** The most recently written retained checkpoint under {@code checkpointDir}, if any. */
    public static Optional<String> latest(String checkpointDir) {
        try {
            Path root = new Path(URI.create(checkpointDir));
            FileSystem fs = root.getFileSystem();
            if (!fs.exists(root)) {
                return Optional.empty();
            }
            FileStatus best = null;
            for (FileStatus job : list(fs, root)) {
                if (!job.isDir()) {
                    continue;
                }
                for (FileStatus chk : list(fs, job.getPath())) {
                    if (chk.isDir() && chk.getPath().getName().startsWith("chk-")
                            && fs.exists(new Path(chk.getPath(), METADATA))) {
                        FileStatus metadata = fs.getFileStatus(new Path(chk.getPath(), METADATA));
                        if (best == null || metadata.getModificationTime() > best.getModificationTime()) {
                            best = metadata;
                        }
                    }
                }
            }
            return best == null ? Optional.empty() : Optional.of(best.getPath().getParent().toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot list Flink checkpoints under '" + checkpointDir + "': " + e.getMessage(), e);
        }
    }

    /**
     * What {@code restore.from} names: {@code none}, {@code latest} (under {@code checkpointDir}, or
     * nothing when there is none), or a checkpoint / savepoint directory, which must hold {@code _metadata}.
     */
    public static Optional<String> resolve(String restoreFrom, String checkpointDir) {
        if (restoreFrom.equals("none")) {
            return Optional.empty();
        }
        if (restoreFrom.equals("latest")) {
            return latest(checkpointDir);
        }
        try {
            Path path = new Path(restoreFrom);
            FileSystem fs = path.getFileSystem();
            if (path.getName().equals(METADATA) && fs.exists(path)) {
                return Optional.of(path.getParent().toString());
            }
            if (!fs.exists(new Path(path, METADATA))) {
                throw new IllegalArgumentException("restore.from '" + restoreFrom
                        + "' is not a Flink checkpoint or savepoint: no " + METADATA + " file there");
            }
            return Optional.of(path.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("restore.from '" + restoreFrom + "' cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * The uids of the operators that have state in the checkpoint or savepoint at {@code pointer}
     * (operators without a uid of their own are not named).
     */
    public static java.util.Set<String> operatorUids(String pointer) {
        Path metadata = new Path(new Path(pointer), METADATA);
        try (java.io.DataInputStream in = new java.io.DataInputStream(metadata.getFileSystem().open(metadata))) {
            java.util.Set<String> uids = new java.util.TreeSet<>();
            for (org.apache.flink.runtime.checkpoint.OperatorState op : org.apache.flink.runtime.checkpoint.Checkpoints
                    .loadCheckpointMetadata(in, RetainedCheckpoints.class.getClassLoader(), pointer).getOperatorStates()) {
                if (op.getStates().stream().anyMatch(org.apache.flink.runtime.checkpoint.OperatorSubtaskState::hasState)
                        || op.getCoordinatorState() != null) {
                    op.getOperatorUid().ifPresent(uids::add);
                }
            }
            return uids;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the Flink metadata " + metadata + ": " + e.getMessage(), e);
        }
    }

    private static FileStatus[] list(FileSystem fs, Path dir) throws IOException {
        FileStatus[] entries = fs.listStatus(dir);
        return entries == null ? new FileStatus[0] : entries;
    }

    private RetainedCheckpoints() {
    }
}
