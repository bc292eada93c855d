package io.streamdistill.student.tokenize;

import io.streamdistill.student.Hashing;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Hugging Face tokenizer (any {@code tokenizer.json}) through DJL's native binding, fully
 * offline: it is loaded from a file, never by hub name, and DJL is told not to download its
 * native library (the CPU build ships inside the DJL jar). Texts are truncated to
 * {@link #maxTokens()} including special tokens; no padding, since the student pools a bag.
 * Thread-safe.
 */
public final class TextTokenizer implements AutoCloseable {
    static {
        // The linux-x86_64 CPU library is bundled in the jar; without these DJL may try to fetch a CUDA build.
        if (System.getProperty("DJL_OFFLINE") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("DJL_OFFLINE", "true");
        }
        if (System.getProperty("RUST_FLAVOR") == null && System.getenv("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
    }

    private final HuggingFaceTokenizer tokenizer;
    private final int maxTokens;
    private final int vocabSize;
    private final int[] specialIds;
    private final Path file;
    private final String id;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int maxTokens, int vocabSize, int[] specialIds, Path file, String id) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.vocabSize = vocabSize;
        this.specialIds = specialIds;
        this.id = id;
    }

    /**
     * Loads {@code tokenizer.json}.
     *
     * @param name      a short name for ids and logs (e.g. "all-MiniLM-L6-v2")
     * @param maxTokens texts are cut to this many tokens, special tokens included
     */
    public static TextTokenizer load(Path tokenizerJson, String name, int maxTokens) {
        if (maxTokens < 2) {
            throw new IllegalArgumentException("maxTokens must be >= 2 (room for the special tokens), got " + maxTokens);
        }
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new IllegalArgumentException("tokenizer file " + tokenizerJson + " does not exist");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(tokenizerJson);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tokenizerJson, e);
        }
        JsonNode root = parse(bytes, tokenizerJson);
        int vocab = vocabSize(root, tokenizerJson);
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(tokenizerJson)
                    .optAddSpecialTokens(true)
                    .optPadding(false)
                    .optTruncation(true)
                    .optMaxLength(maxTokens)
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot load the tokenizer " + tokenizerJson + ": " + e.getMessage(), e);
        }
        return new TextTokenizer(hf, maxTokens, vocab, specialIds(root), tokenizerJson, name + "@sha256:" + Hashing.sha256(bytes));
    }

    /** Token ids of one text, special tokens included, at most {@link #maxTokens()}. */
    public int[] encode(String text) {
        return toInts(tokenizer.encode(text).getIds());
    }

    /** Token ids of many texts in one native call. */
    public int[][] encode(List<String> texts) {
        Encoding[] encodings = tokenizer.batchEncode(texts);
        int[][] out = new int[encodings.length][];
        for (int i = 0; i < encodings.length; i++) {
            out[i] = toInts(encodings[i].getIds());
        }
        return out;
    }

    /** Token ids of one text and whether it was cut to {@link #maxTokens()}. */
    public record Encoded(int[] ids, boolean truncated) {
    }

    /** Like {@link #encode(List)}, also saying which texts were cut. */
    public List<Encoded> encodeWithTruncation(List<String> texts) {
        Encoding[] encodings = tokenizer.batchEncode(texts);
        List<Encoded> out = new java.util.ArrayList<>(encodings.length);
        for (Encoding e : encodings) {
            out.add(new Encoded(toInts(e.getIds()), e.exceedMaxLength()));
        }
        return out;
    }

    /** Whether a text was longer than {@link #maxTokens()} and got cut. */
    public boolean wouldTruncate(String text) {
        return tokenizer.encode(text).exceedMaxLength();
    }

    /**
     * Pads ids to a rectangular batch: {@code input_ids} and {@code attention_mask}, int64
     * {@code [batch, longest]}, in flat direct buffers that ONNX Runtime reads in place (a
     * {@code long[][]} would be copied row by row).
     */
    public static PaddedBatch pad(int[][] ids, long padId) {
        int longest = 1;
        for (int[] row : ids) {
            longest = Math.max(longest, row.length);
        }
        LongBuffer inputIds = direct(ids.length * longest);
        LongBuffer mask = direct(ids.length * longest);
        for (int[] row : ids) {
            for (int c = 0; c < longest; c++) {
                boolean real = c < row.length;
                inputIds.put(real ? row[c] : padId);
                mask.put(real ? 1L : 0L);
            }
        }
        return new PaddedBatch(inputIds.flip(), mask.flip(), new long[] {ids.length, longest});
    }

    private static LongBuffer direct(int longs) {
        return ByteBuffer.allocateDirect(longs * 8).order(ByteOrder.nativeOrder()).asLongBuffer();
    }

    /** A padded batch: ids and mask as flat row-major buffers of the given {@code [batch, sequence]} shape. */
    public record PaddedBatch(LongBuffer inputIds, LongBuffer attentionMask, long[] shape) {
        /** One row of the ids. */
        public long[] idsRow(int row) {
            return row(inputIds, row);
        }

        /** One row of the mask. */
        public long[] maskRow(int row) {
            return row(attentionMask, row);
        }

        /** All zeros in the batch's shape (e.g. BERT's token_type_ids). */
        public LongBuffer zeros() {
            return direct((int) (shape[0] * shape[1]));
        }

        private long[] row(LongBuffer b, int row) {
            long[] out = new long[(int) shape[1]];
            b.duplicate().position(row * out.length).get(out);
            return out;
        }
    }

    public int maxTokens() {
        return maxTokens;
    }

    /** The size of the tokenizer's vocabulary (the student's embedding table has this many rows). */
    public int vocabSize() {
        return vocabSize;
    }

    /** The token string of every id ({@code model.vocab} and added tokens), null where an id has none. */
    public String[] vocabulary() {
        String[] out = new String[vocabSize];
        JsonNode root;
        try {
            root = parse(Files.readAllBytes(file), file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            vocab.fields().forEachRemaining(e -> {
                int id = e.getValue().asInt(-1);
                if (id >= 0 && id < out.length) {
                    out[id] = e.getKey();
                }
            });
        } else if (vocab.isArray()) {
            for (int id = 0; id < vocab.size() && id < out.length; id++) {
                out[id] = vocab.get(id).path(0).asText();
            }
        }
        for (JsonNode added : root.path("added_tokens")) {
            int id = added.path("id").asInt(-1);
            if (id >= 0 && id < out.length) {
                out[id] = added.path("content").asText();
            }
        }
        return out;
    }

    /** Ids of the tokenizer's special tokens ({@code added_tokens} marked special: [CLS], [SEP], [PAD], ...), ascending. */
    public int[] specialIds() {
        return specialIds.clone();
    }

    /**
     * The special tokens this tokenizer wraps every text in: those before the text ({@code [CLS]})
     * and those after it ({@code [SEP]}). Found by encoding an empty text and a one-word text and
     * seeing where the word goes, so any single-sequence template works.
     */
    public record Wrapping(int[] prefix, int[] suffix) {
        /** {@code prefix + ids + suffix}. */
        public int[] wrap(int... ids) {
            int[] out = new int[prefix.length + ids.length + suffix.length];
            System.arraycopy(prefix, 0, out, 0, prefix.length);
            System.arraycopy(ids, 0, out, prefix.length, ids.length);
            System.arraycopy(suffix, 0, out, prefix.length + ids.length, suffix.length);
            return out;
        }
    }

    public Wrapping wrapping() {
        int[] empty = encode("");
        int[] word = encode("a");
        int split = 0;
        while (split < empty.length && split < word.length && empty[split] == word[split]) {
            split++;
        }
        return new Wrapping(java.util.Arrays.copyOfRange(empty, 0, split), java.util.Arrays.copyOfRange(empty, split, empty.length));
    }

    /** Name plus the SHA-256 of tokenizer.json: identifies exactly which tokenizer made the ids. */
    public String id() {
        return id;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    private static JsonNode parse(byte[] json, Path path) {
        try {
            return new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(path + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static int[] specialIds(JsonNode root) {
        java.util.TreeSet<Integer> ids = new java.util.TreeSet<>();
        for (JsonNode added : root.path("added_tokens")) {
            if (added.path("special").asBoolean(false) && added.has("id")) {
                ids.add(added.path("id").asInt());
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The largest id in the model vocabulary or the added tokens, plus one. */
    private static int vocabSize(JsonNode root, Path path) {
        int max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
                max = Math.max(max, id.asInt());
            }
        } else if (vocab.isArray()) {
            max = vocab.size() - 1; // Unigram: [[piece, score], ...]
        }
        for (JsonNode added : root.path("added_tokens")) {
            max = Math.max(max, added.path("id").asInt());
        }
        if (max < 0) {
            throw new IllegalArgumentException(path + " has no model.vocab: is it a Hugging Face tokenizer.json?");
        }
        return max + 1;
    }
}
