package io.streamdistill.student.sync;

import io.streamdistill.student.model.Student;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * How far one student's parameters moved in a sync round: the embedding rows it changed (token and
 * bigram tables, sparse) and the whole of the small dense layers. Data-parallel training sends one
 * per replica per round and merges them with {@link #mean}; the merged delta moves every replica,
 * and the exported model, to the same place.
 *
 * <p>A delta is kept at 32 bits per value, or {@link #quantized() at 8}: each embedding row then
 * carries one scale (its largest move / 127) and a signed byte per value, a quarter of the bytes.
 * The values it holds are exactly what it writes, so a quantized delta reads back bit for bit and
 * two merges of the same quantized deltas agree. The dense layers (a few thousand values) stay at
 * 32 bits.
 */
public final class ModelDelta {
    private static final int MAGIC = 0x53444D44; // "SDMD": values at 32 bits
    private static final int MAGIC_8 = 0x53444D51; // "SDMQ": embedding rows at 8 bits with a scale each
    private static final int DENSE_FROM = 2; // parameters() after the two embedding tables

    private final int dim;
    private final long records;
    private final int[] tokenRows;
    private final float[] tokenValues;
    private final int[] bigramRows;
    private final float[] bigramValues;
    private final float[][] dense;
    /** The rows' codes (a byte per value) and scales when quantized, else null. */
    private final Codes tokenCodes;
    private final Codes bigramCodes;

    /** A quantized table's scales and codes, and the values they stand for (decoded once). */
    private record Codes(float[] scales, byte[] codes, float[] values) {
        /** Rounds each row to 8 bits on a scale of its own; a row of zeros gets scale 0. */
        static Codes of(float[] values, int dim) {
            int rows = dim == 0 ? 0 : values.length / dim;
            float[] scales = new float[rows];
            byte[] codes = new byte[values.length];
            float[] decoded = values.clone();
            for (int r = 0; r < rows; r++) {
                quantizeRow(decoded, codes, scales, r, dim);
            }
            return new Codes(scales, codes, decoded);
        }

        /** {@link #of} applied to {@code now - ref} on the listed rows, adding each decoded value to {@code ref}. */
        static Codes moved(float[] now, float[] ref, int[] rows, int dim) {
            float[] scales = new float[rows.length];
            byte[] codes = new byte[rows.length * dim];
            float[] decoded = new float[rows.length * dim];
            for (int r = 0; r < rows.length; r++) {
                int base = rows[r] * dim;
                int at = r * dim;
                for (int j = 0; j < dim; j++) {
                    decoded[at + j] = now[base + j] - ref[base + j];
                }
                quantizeRow(decoded, codes, scales, r, dim);
                for (int j = 0; j < dim; j++) {
                    ref[base + j] += decoded[at + j];
                }
            }
            return new Codes(scales, codes, decoded);
        }

        /** Row {@code r} of {@code values}: its scale and codes, and the values replaced by what the codes stand for. */
        private static void quantizeRow(float[] values, byte[] codes, float[] scales, int r, int dim) {
            int at = r * dim;
            float max = 0;
            for (int j = 0; j < dim; j++) {
                max = Math.max(max, Math.abs(values[at + j]));
            }
            float scale = max / 127f;
            scales[r] = scale;
            if (scale > 0) {
                float inverse = 127f / max;
                for (int j = 0; j < dim; j++) {
                    // |v| <= max, so the code is within [-127, 127] up to rounding; clamped all the same.
                    int q = Math.max(-127, Math.min(127, Math.round(values[at + j] * inverse)));
                    codes[at + j] = (byte) q;
                    values[at + j] = q * scale;
                }
            } else {
                java.util.Arrays.fill(values, at, at + dim, 0f); // an all-zero row (or one of NaNs: not sent as such)
            }
        }

        /** Codes as read back: the values are the codes times their row's scale, as {@link #of} computed them. */
        static Codes decode(float[] scales, byte[] codes, int dim) {
            float[] decoded = new float[codes.length];
            for (int r = 0, base = 0; r < scales.length; r++, base += dim) {
                float scale = scales[r];
                for (int j = 0; j < dim; j++) {
                    decoded[base + j] = codes[base + j] * scale;
                }
            }
            return new Codes(scales, codes, decoded);
        }
    }

    private ModelDelta(int dim, long records, int[] tokenRows, float[] tokenValues, int[] bigramRows, float[] bigramValues,
                       float[][] dense) {
        this(dim, records, tokenRows, tokenValues, bigramRows, bigramValues, dense, null, null);
    }

    private ModelDelta(int dim, long records, int[] tokenRows, Codes tokenCodes, int[] bigramRows, Codes bigramCodes,
                       float[][] dense) {
        this(dim, records, tokenRows, tokenCodes.values(), bigramRows, bigramCodes.values(), dense, tokenCodes, bigramCodes);
    }

    private ModelDelta(int dim, long records, int[] tokenRows, float[] tokenValues, int[] bigramRows, float[] bigramValues,
                       float[][] dense, Codes tokenCodes, Codes bigramCodes) {
        this.tokenCodes = tokenCodes;
        this.bigramCodes = bigramCodes;
        this.dim = dim;
        this.records = records;
        this.tokenRows = tokenRows;
        this.tokenValues = tokenValues;
        this.bigramRows = bigramRows;
        this.bigramValues = bigramValues;
        this.dense = dense;
    }

    /**
     * {@code now - ref} on the listed embedding rows (ascending, no duplicates) and on every dense array.
     *
     * @param records how many records the replica trained on to move this far
     */
    static ModelDelta between(float[][] now, float[][] ref, int[] tokenRows, int[] bigramRows, int dim, long records) {
        return new ModelDelta(dim, records, tokenRows, rows(now[Student.TOKENS], ref[Student.TOKENS], tokenRows, dim),
                bigramRows, rows(now[Student.BIGRAMS], ref[Student.BIGRAMS], bigramRows, dim), dense(now, ref));
    }

    /**
     * The same move as {@code between(...).quantized()}, in one pass over the rows, and {@code ref}'s
     * rows advanced by exactly what it says (the rounding error stays between {@code now} and {@code ref}).
     */
    static ModelDelta takeQuantized(float[][] now, float[][] ref, int[] tokenRows, int[] bigramRows, int dim, long records) {
        return new ModelDelta(dim, records, tokenRows, Codes.moved(now[Student.TOKENS], ref[Student.TOKENS], tokenRows, dim),
                bigramRows, Codes.moved(now[Student.BIGRAMS], ref[Student.BIGRAMS], bigramRows, dim), dense(now, ref));
    }

    private static float[][] dense(float[][] now, float[][] ref) {
        float[][] dense = new float[now.length - DENSE_FROM][];
        for (int i = DENSE_FROM; i < now.length; i++) {
            dense[i - DENSE_FROM] = new float[now[i].length];
            for (int j = 0; j < now[i].length; j++) {
                dense[i - DENSE_FROM][j] = now[i][j] - ref[i][j];
            }
        }
        return dense;
    }

    private static float[] rows(float[] now, float[] ref, int[] rows, int dim) {
        float[] out = new float[rows.length * dim];
        for (int r = 0; r < rows.length; r++) {
            int base = rows[r] * dim;
            for (int j = 0; j < dim; j++) {
                out[r * dim + j] = now[base + j] - ref[base + j];
            }
        }
        return out;
    }

    /**
     * The merged move of one round: each embedding row moves by the mean over the replicas that
     * changed it (a row only one replica saw keeps that replica's whole update), and each dense
     * array by the mean over the replicas that trained at all. With one delta, that delta. When every
     * delta is quantized, so is the mean (the merger and a rescaled restore then compute the same one).
     */
    public static ModelDelta mean(List<ModelDelta> deltas) {
        return merge(deltas, false);
    }

    /**
     * The merged move as the sum of the replicas' moves: every replica's steps count in full, as if
     * one trainer had taken them all one after another from the same start (N times the step per
     * round where all replicas agree; the same as {@link #mean} where only one moved).
     */
    public static ModelDelta sum(List<ModelDelta> deltas) {
        return merge(deltas, true);
    }

    private static ModelDelta merge(List<ModelDelta> deltas, boolean sum) {
        if (deltas.isEmpty()) {
            throw new IllegalArgumentException("a round needs at least one delta");
        }
        ModelDelta first = deltas.get(0);
        int dim = first.dim;
        long records = 0;
        int trained = 0;
        float[][] dense = new float[first.dense.length][];
        for (int i = 0; i < dense.length; i++) {
            dense[i] = new float[first.dense[i].length];
        }
        for (ModelDelta d : deltas) {
            if (d.dim != dim || d.dense.length != dense.length) {
                throw new IllegalArgumentException("deltas of different students cannot be merged");
            }
            records += d.records;
            if (d.records > 0) {
                trained++;
                for (int i = 0; i < dense.length; i++) {
                    for (int j = 0; j < dense[i].length; j++) {
                        dense[i][j] += d.dense[i][j];
                    }
                }
            }
        }
        for (float[] a : dense) {
            for (int j = 0; j < a.length; j++) {
                a[j] = trained == 0 ? 0f : sum ? a[j] : a[j] / trained;
            }
        }
        int[][] tokenRows = new int[deltas.size()][];
        float[][] tokenValues = new float[deltas.size()][];
        int[][] bigramRows = new int[deltas.size()][];
        float[][] bigramValues = new float[deltas.size()][];
        for (int k = 0; k < deltas.size(); k++) {
            tokenRows[k] = deltas.get(k).tokenRows;
            tokenValues[k] = deltas.get(k).tokenValues;
            bigramRows[k] = deltas.get(k).bigramRows;
            bigramValues[k] = deltas.get(k).bigramValues;
        }
        RowMean tokens = RowMean.of(tokenRows, tokenValues, dim, sum);
        RowMean bigrams = RowMean.of(bigramRows, bigramValues, dim, sum);
        ModelDelta merged = new ModelDelta(dim, records, tokens.rows, tokens.values, bigrams.rows, bigrams.values, dense);
        return deltas.stream().allMatch(ModelDelta::isQuantized) ? merged.quantized() : merged;
    }

    /** This delta with its embedding rows at 8 bits (itself when it already is). */
    public ModelDelta quantized() {
        if (isQuantized()) {
            return this;
        }
        return new ModelDelta(dim, records, tokenRows, Codes.of(tokenValues, dim), bigramRows, Codes.of(bigramValues, dim), dense);
    }

    public boolean isQuantized() {
        return tokenCodes != null;
    }

    /** Per-row means (or sums) of several sorted sparse row sets. */
    private record RowMean(int[] rows, float[] values) {
        static RowMean of(int[][] rows, float[][] values, int dim, boolean sum) {
            int[] all = Arrays.stream(rows).flatMapToInt(Arrays::stream).sorted().distinct().toArray();
            float[] out = new float[all.length * dim];
            int[] count = new int[all.length];
            for (int k = 0; k < rows.length; k++) {
                int at = 0;
                for (int r = 0; r < rows[k].length; r++) {
                    while (all[at] != rows[k][r]) {
                        at++;
                    }
                    count[at]++;
                    for (int j = 0; j < dim; j++) {
                        out[at * dim + j] += values[k][r * dim + j];
                    }
                }
            }
            for (int r = 0; r < all.length; r++) {
                if (count[r] > 1 && !sum) {
                    for (int j = 0; j < dim; j++) {
                        out[r * dim + j] /= count[r];
                    }
                }
            }
            return new RowMean(all, out);
        }
    }

    /** {@code params += sign * this}. */
    void addTo(float[][] params, float sign) {
        addRows(params[Student.TOKENS], tokenRows, tokenValues, sign);
        addRows(params[Student.BIGRAMS], bigramRows, bigramValues, sign);
        for (int i = 0; i < dense.length; i++) {
            float[] p = params[i + DENSE_FROM];
            for (int j = 0; j < p.length; j++) {
                p[j] += sign * dense[i][j];
            }
        }
    }

    /**
     * {@code params += sign * this} and {@code ref += sign * this} in one pass over the delta (a
     * replica adopting a round moves both by the same amounts).
     */
    void addTo(float[][] params, float[][] ref, float sign) {
        addRows(params[Student.TOKENS], ref[Student.TOKENS], tokenRows, tokenValues, sign);
        addRows(params[Student.BIGRAMS], ref[Student.BIGRAMS], bigramRows, bigramValues, sign);
        for (int i = 0; i < dense.length; i++) {
            float[] p = params[i + DENSE_FROM];
            float[] q = ref[i + DENSE_FROM];
            float[] d = dense[i];
            for (int j = 0; j < p.length; j++) {
                p[j] += sign * d[j];
                q[j] += sign * d[j];
            }
        }
    }

    private void addRows(float[] table, float[] other, int[] rows, float[] values, float sign) {
        for (int r = 0; r < rows.length; r++) {
            int base = rows[r] * dim;
            int at = r * dim;
            for (int j = 0; j < dim; j++) {
                float v = sign * values[at + j];
                table[base + j] += v;
                other[base + j] += v;
            }
        }
    }

    private void addRows(float[] table, int[] rows, float[] values, float sign) {
        for (int r = 0; r < rows.length; r++) {
            int base = rows[r] * dim;
            for (int j = 0; j < dim; j++) {
                table[base + j] += sign * values[r * dim + j];
            }
        }
    }

    /** Moves {@code student}'s parameters by this delta (the merger's copy of the model). */
    public void applyTo(Student student) {
        addTo(student.parameters(), 1f);
    }

    public long records() {
        return records;
    }

    /** Embedding rows it moves, tokens and bigrams together. */
    public int rows() {
        return tokenRows.length + bigramRows.length;
    }

    /** Its size as {@link #write} writes it. */
    public long bytes() {
        long n = 4 + 4 + 8 + 4 + 4 + 4;
        long perValue = isQuantized() ? 1 : 4;
        long perRow = isQuantized() ? 8 : 4; // the row's number, and its scale when quantized
        n += perRow * (tokenRows.length + bigramRows.length) + perValue * (tokenValues.length + bigramValues.length);
        for (float[] d : dense) {
            n += 4 + 4L * d.length;
        }
        return n;
    }

    public void write(DataOutputStream out) throws IOException {
        out.writeInt(isQuantized() ? MAGIC_8 : MAGIC);
        out.writeInt(dim);
        out.writeLong(records);
        if (isQuantized()) {
            writeRows(out, tokenRows, tokenCodes);
            writeRows(out, bigramRows, bigramCodes);
        } else {
            writeRows(out, tokenRows, tokenValues);
            writeRows(out, bigramRows, bigramValues);
        }
        out.writeInt(dense.length);
        for (float[] d : dense) {
            writeFloats(out, d);
        }
    }

    /** {@link #write} into a byte array of exactly {@link #bytes} bytes. */
    public byte[] toBytes() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE, bytes()));
        try {
            write(new DataOutputStream(out));
        } catch (IOException cannot) {
            throw new java.io.UncheckedIOException(cannot); // a byte array does not fail
        }
        return out.toByteArray();
    }

    /** {@link #read} from what {@link #toBytes} wrote. */
    public static ModelDelta fromBytes(byte[] bytes) throws IOException {
        return read(new DataInputStream(new java.io.ByteArrayInputStream(bytes)));
    }

    public static ModelDelta read(DataInputStream in) throws IOException {
        int magic = in.readInt();
        if (magic != MAGIC && magic != MAGIC_8) {
            throw new IOException("not a model delta");
        }
        int dim = in.readInt();
        long records = in.readLong();
        if (magic == MAGIC_8) {
            int[] tokenRows = readInts(in);
            Codes tokenCodes = readCodes(in, tokenRows.length, dim);
            int[] bigramRows = readInts(in);
            Codes bigramCodes = readCodes(in, bigramRows.length, dim);
            return new ModelDelta(dim, records, tokenRows, tokenCodes, bigramRows, bigramCodes, readDense(in));
        }
        int[] tokenRows = readInts(in);
        float[] tokenValues = readFloats(in, tokenRows.length * dim);
        int[] bigramRows = readInts(in);
        float[] bigramValues = readFloats(in, bigramRows.length * dim);
        return new ModelDelta(dim, records, tokenRows, tokenValues, bigramRows, bigramValues, readDense(in));
    }

    private static float[][] readDense(DataInputStream in) throws IOException {
        float[][] dense = new float[in.readInt()][];
        for (int i = 0; i < dense.length; i++) {
            dense[i] = readFloats(in, in.readInt());
        }
        return dense;
    }

    private static void writeRows(DataOutputStream out, int[] rows, Codes codes) throws IOException {
        writeRowNumbers(out, rows);
        writeValues(out, codes.scales());
        out.write(codes.codes());
    }

    private static Codes readCodes(DataInputStream in, int rows, int dim) throws IOException {
        float[] scales = readFloats(in, rows);
        byte[] codes = new byte[rows * dim];
        in.readFully(codes);
        return Codes.decode(scales, codes, dim);
    }

    private static void writeRows(DataOutputStream out, int[] rows, float[] values) throws IOException {
        writeRowNumbers(out, rows);
        writeValues(out, values);
    }

    private static void writeRowNumbers(DataOutputStream out, int[] rows) throws IOException {
        out.writeInt(rows.length);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(rows.length * 4);
        b.asIntBuffer().put(rows);
        out.write(b.array());
    }

    private static void writeFloats(DataOutputStream out, float[] a) throws IOException {
        out.writeInt(a.length);
        writeValues(out, a);
    }

    /** Big-endian floats in one bulk copy (a round moves megabytes: one call per value cost more than the merge). */
    private static void writeValues(DataOutputStream out, float[] a) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(a.length * 4);
        b.asFloatBuffer().put(a);
        out.write(b.array());
    }

    private static int[] readInts(DataInputStream in) throws IOException {
        int[] a = new int[in.readInt()];
        byte[] raw = new byte[a.length * 4];
        in.readFully(raw);
        java.nio.ByteBuffer.wrap(raw).asIntBuffer().get(a);
        return a;
    }

    private static float[] readFloats(DataInputStream in, int n) throws IOException {
        float[] a = new float[n];
        byte[] raw = new byte[n * 4];
        in.readFully(raw);
        java.nio.ByteBuffer.wrap(raw).asFloatBuffer().get(a);
        return a;
    }
}
