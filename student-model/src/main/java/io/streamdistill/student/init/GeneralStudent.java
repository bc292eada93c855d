package io.streamdistill.student.init;

import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.Learners;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A general-distilled student as a file: an embedding student trained on the teacher's pooled outputs
 * over generic text, before any task data ({@code streamdistill distill-general}), with what a task's
 * student needs to start from it: the typical length of its raw outputs (a teacher head that reads unit
 * vectors is scaled by it, see {@link GeneralStart}) and what it was made from ({@code info}: teacher,
 * corpus, spec, sentences, the cache key). The same format holds an unfinished run, so it resumes.
 */
public record GeneralStudent(Learner learner, float outputNorm, Map<String, String> info) {
    /** "SDGS". */
    public static final int MAGIC = 0x53444753;
    public static final int FORMAT_VERSION = 1;

    public GeneralStudent {
        info = Collections.unmodifiableMap(new LinkedHashMap<>(info));
    }

    /** Writes to {@code file} through a temporary file beside it, so a reader never sees half a file. */
    public void write(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp))) {
            writeTo(os);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public void writeTo(OutputStream stream) throws IOException {
        DataOutputStream out = new DataOutputStream(stream);
        out.writeInt(MAGIC);
        out.writeInt(FORMAT_VERSION);
        out.writeFloat(outputNorm);
        out.writeInt(info.size());
        for (Map.Entry<String, String> e : info.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeUTF(e.getValue());
        }
        out.flush();
        learner.writeTo(out);
        out.flush();
    }

    public static GeneralStudent read(Path file, Gemm gemm) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + " does not exist (make it with streamdistill distill-general)");
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            return readFrom(in, gemm, file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the general student " + file + ": " + e.getMessage(), e);
        }
    }

    /** What the file says it was made from ({@link #info}), without reading the student behind it. */
    public static Map<String, String> readInfo(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + " does not exist (make it with streamdistill distill-general)");
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            DataInputStream data = new DataInputStream(in);
            readHeader(data, file.toString());
            return readMap(data);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the general student " + file + ": " + e.getMessage(), e);
        }
    }

    static GeneralStudent readFrom(InputStream stream, Gemm gemm, String name) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        float norm = readHeader(in, name);
        Map<String, String> info = readMap(in);
        return new GeneralStudent(Learners.readFrom(in, gemm), norm, info);
    }

    /** Magic and version checked; returns the output length. */
    private static float readHeader(DataInputStream in, String name) throws IOException {
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new IllegalArgumentException(name + " is not a general student (made by streamdistill distill-general)");
        }
        int version = in.readInt();
        if (version != FORMAT_VERSION) {
            throw new IllegalArgumentException(name + " is a general student of format " + version + "; this version reads "
                    + FORMAT_VERSION);
        }
        return in.readFloat();
    }

    private static Map<String, String> readMap(DataInputStream in) throws IOException {
        int n = in.readInt();
        Map<String, String> info = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            info.put(in.readUTF(), in.readUTF());
        }
        return info;
    }
}
