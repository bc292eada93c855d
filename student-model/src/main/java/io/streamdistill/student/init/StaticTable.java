package io.streamdistill.student.init;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.student.Hashing;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A static student distilled from a teacher (Model2Vec's recipe): one D-dimensional row per token
 * of the teacher's vocabulary, the PCA basis and mean that map the teacher's space to it, and how
 * to map back. What a student is warm-started from ({@code student.init=static:FILE}).
 *
 * <p>Back in the teacher's space a pooled student vector z stands for {@code map z + offset}, a
 * linear map fitted (ridge regression) to the teacher's unit sentence embeddings of calibration
 * texts; {@code reconstructionNorm} is the typical length of that vector there (a head that reads
 * unit embeddings divides by it). The plain inverse of the projection, {@code basis^T z + meanWeight
 * * mean} (the rows were centred, so the shared mean direction is added back with the fitted
 * weight), is kept too: it needs no calibration but points less well (see docs/benchmarks.md).
 *
 * <p>File: magic {@code SDSX}, format version, a JSON header, the float arrays (big-endian), then
 * the SHA-256 of everything before it as 64 hex characters: {@link #read} refuses a file whose
 * content does not match it.
 */
public final class StaticTable {
    private static final int MAGIC = 0x53445358; // "SDSX"
    public static final int FORMAT_VERSION = 1;

    /** Who and what: teacher id, the teacher encoder's sha256, tokenizer id, pooling, the weighting used, and how long it took. */
    private final Map<String, String> info;
    private final int vocabSize;
    private final int dim;
    private final float[] mean;
    private final float[] basis;
    private final float[] table;
    private final int[] specialIds;
    private final float meanWeight;
    private final float[] map;
    private final float[] offset;
    private final float reconstructionNorm;
    private final double explained;
    private final String sha256;

    public StaticTable(Map<String, String> info, int vocabSize, int dim, float[] mean, float[] basis, float[] table,
                       int[] specialIds, float meanWeight, float[] map, float[] offset, float reconstructionNorm, double explained) {
        if (vocabSize < 1 || dim < 1 || mean.length < dim) {
            throw new IllegalArgumentException("a static table needs vocabSize >= 1 and 1 <= dim <= teacher width; got "
                    + vocabSize + ", " + dim + ", " + mean.length);
        }
        if (basis.length != dim * mean.length || table.length != (long) vocabSize * dim || map.length != basis.length
                || offset.length != mean.length) {
            throw new IllegalArgumentException("static table arrays do not match vocabSize " + vocabSize + ", dim " + dim
                    + " and width " + mean.length);
        }
        for (String k : new String[] {"teacher", "teacher_sha256"}) {
            if (!info.containsKey(k)) {
                throw new IllegalArgumentException("a static table must say its " + k);
            }
        }
        this.info = Map.copyOf(info);
        this.vocabSize = vocabSize;
        this.dim = dim;
        this.mean = mean;
        this.basis = basis;
        this.table = table;
        this.specialIds = specialIds.clone();
        this.meanWeight = meanWeight;
        this.map = map;
        this.offset = offset;
        this.reconstructionNorm = reconstructionNorm;
        this.explained = explained;
        this.sha256 = Hashing.sha256(content());
    }

    public Map<String, String> info() {
        return info;
    }

    /** The sha256 of the teacher encoder (model, tokenizer, pooling) the table was distilled from. */
    public String teacherSha256() {
        return info.get("teacher_sha256");
    }

    public String teacher() {
        return info.get("teacher");
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int dim() {
        return dim;
    }

    /** The teacher's embedding width. */
    public int teacherDim() {
        return mean.length;
    }

    /** The PCA mean, length {@link #teacherDim()}. Not a copy. */
    public float[] mean() {
        return mean;
    }

    /** The PCA basis, {@code dim} orthonormal rows of {@link #teacherDim()}. Not a copy. */
    public float[] basis() {
        return basis;
    }

    /** The token rows, {@code table[id * dim + k]}. Not a copy. */
    public float[] table() {
        return table;
    }

    public int[] specialIds() {
        return specialIds.clone();
    }

    public float meanWeight() {
        return meanWeight;
    }

    /** The fitted map back to the teacher's space, {@code map[j * dim + k]} (teacherDim x dim). Not a copy. */
    public float[] map() {
        return map;
    }

    /** The fitted map's offset, length {@link #teacherDim()}. Not a copy. */
    public float[] offset() {
        return offset;
    }

    public float reconstructionNorm() {
        return reconstructionNorm;
    }

    /** Share of the teacher's token-level variance the basis keeps. */
    public double explainedVariance() {
        return explained;
    }

    /** The sha256 of the file's content, as written in its trailer. */
    public String sha256() {
        return sha256;
    }

    /** The teacher-space vector a pooled student vector stands for: {@code map z + offset}. */
    public float[] reconstruct(float[] z) {
        int m = mean.length;
        float[] out = new float[m];
        for (int j = 0; j < m; j++) {
            double s = offset[j];
            for (int k = 0; k < dim; k++) {
                s += (double) map[j * dim + k] * z[k];
            }
            out[j] = (float) s;
        }
        return out;
    }

    /** The mean of the rows of {@code ids}, counting every id (special rows are zero), as the student pools. */
    public float[] pool(int[] ids) {
        float[] z = new float[dim];
        for (int id : ids) {
            int row = id * dim;
            for (int k = 0; k < dim; k++) {
                z[k] += table[row + k];
            }
        }
        float inv = 1f / Math.max(ids.length, 1);
        for (int k = 0; k < dim; k++) {
            z[k] *= inv;
        }
        return z;
    }

    private byte[] content() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(4 * table.length + 4 * basis.length + 4096);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(FORMAT_VERSION);
            Map<String, Object> header = new LinkedHashMap<>();
            header.put("info", new java.util.TreeMap<>(info));
            header.put("vocab_size", vocabSize);
            header.put("dim", dim);
            header.put("teacher_dim", mean.length);
            header.put("special_ids", specialIds);
            header.put("mean_weight", meanWeight);
            header.put("reconstruction_norm", reconstructionNorm);
            header.put("explained_variance", explained);
            byte[] json = new ObjectMapper().writeValueAsBytes(header);
            out.writeInt(json.length);
            out.write(json);
            writeFloats(out, mean);
            writeFloats(out, basis);
            writeFloats(out, map);
            writeFloats(out, offset);
            writeFloats(out, table);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Writes the file atomically (a temporary file moved into place), so a reader never sees half of it. */
    public void write(Path file) {
        byte[] body = content();
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
            try (var out = Files.newOutputStream(tmp)) {
                out.write(body);
                out.write(Hashing.sha256(body).getBytes(StandardCharsets.US_ASCII));
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the static table " + file, e);
        }
    }

    /**
     * Reads a file written by {@link #write}.
     *
     * @throws IllegalArgumentException when it is not a static table, of another format version, or its content does not match its sha256
     */
    public static StaticTable read(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the static table " + file + ": " + e.getMessage(), e);
        }
        if (all.length < 8 + 64 || ByteBuffer.wrap(all).getInt() != MAGIC) {
            throw new IllegalArgumentException(file + " is not a StreamDistill static table");
        }
        int version = ByteBuffer.wrap(all).getInt(4);
        if (version != FORMAT_VERSION) {
            throw new IllegalArgumentException(file + " is static table format version " + version + "; this build reads "
                    + FORMAT_VERSION);
        }
        byte[] body = Arrays.copyOf(all, all.length - 64);
        String stated = new String(all, all.length - 64, 64, StandardCharsets.US_ASCII);
        String actual = Hashing.sha256(body);
        if (!actual.equals(stated)) {
            throw new IllegalArgumentException("the static table " + file + " is corrupt: its content has sha256 " + actual
                    + ", its trailer says " + stated);
        }
        ByteBuffer in = ByteBuffer.wrap(body).order(ByteOrder.BIG_ENDIAN);
        in.position(8);
        byte[] json = new byte[in.getInt()];
        in.get(json);
        Map<String, Object> header;
        try {
            header = new ObjectMapper().readValue(json, new TypeReference<Map<String, Object>>() { });
        } catch (IOException e) {
            throw new IllegalArgumentException("the static table " + file + " has an unreadable header: " + e.getMessage(), e);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> infoRaw = (Map<String, Object>) header.get("info");
        Map<String, String> info = new LinkedHashMap<>();
        infoRaw.forEach((k, v) -> info.put(k, String.valueOf(v)));
        int vocab = ((Number) header.get("vocab_size")).intValue();
        int dim = ((Number) header.get("dim")).intValue();
        @SuppressWarnings("unchecked")
        int[] specials = ((java.util.List<Number>) header.get("special_ids")).stream().mapToInt(Number::intValue).toArray();
        float[] mean = readFloats(in);
        float[] basis = readFloats(in);
        float[] map = readFloats(in);
        float[] offset = readFloats(in);
        float[] table = readFloats(in);
        StaticTable t = new StaticTable(info, vocab, dim, mean, basis, table, specials,
                ((Number) header.get("mean_weight")).floatValue(), map, offset,
                ((Number) header.get("reconstruction_norm")).floatValue(),
                ((Number) header.get("explained_variance")).doubleValue());
        if (!t.sha256.equals(actual)) {
            throw new IllegalArgumentException("the static table " + file + " does not re-encode to its own bytes (written by"
                    + " another build?)");
        }
        return t;
    }

    private static void writeFloats(DataOutputStream out, float[] a) throws IOException {
        out.writeInt(a.length);
        ByteBuffer buf = ByteBuffer.allocate(a.length * 4).order(ByteOrder.BIG_ENDIAN);
        buf.asFloatBuffer().put(a);
        out.write(buf.array());
    }

    private static float[] readFloats(ByteBuffer in) {
        int n = in.getInt();
        float[] a = new float[n];
        in.asFloatBuffer().get(a);
        in.position(in.position() + 4 * n);
        return a;
    }
}
