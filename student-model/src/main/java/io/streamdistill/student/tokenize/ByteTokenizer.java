package io.streamdistill.student.tokenize;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/**
 * The byte-level vocabulary of the project's own language models: a token per UTF-8 byte (ids 0–255) and one
 * end-of-text token (256). 257 entries keep the language-model head, a vocabulary-wide matrix product per
 * token, small enough for a CPU-trained teacher and a fast student; any text encodes, with nothing unknown.
 * {@link #tokenizerJson()} writes the same vocabulary as a Hugging Face {@code tokenizer.json} (byte-level BPE
 * without merges, GPT-2's byte-to-character map), so other tools read the exported model's ids the same way.
 */
public final class ByteTokenizer {
    public static final int END_OF_TEXT = 256;
    public static final int VOCAB = 257;
    public static final String END_OF_TEXT_TOKEN = "<|endoftext|>";

    /** The text's UTF-8 bytes as ids 0–255. */
    public static int[] encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = bytes[i] & 0xff;
        }
        return ids;
    }

    /** The text of ids (the end-of-text token ends it; a cut multi-byte character becomes U+FFFD). */
    public static String decode(int[] ids) {
        byte[] bytes = new byte[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id == END_OF_TEXT) {
                break;
            }
            if (id < 0 || id > 255) {
                throw new IllegalArgumentException("id " + id + " is not in the byte vocabulary");
            }
            bytes[n++] = (byte) id;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }

    /**
     * GPT-2's map from a byte to a printable character: printable Latin-1 bytes stand for themselves, the others
     * are moved to U+0100 and on, in order.
     */
    static char byteChar(int b) {
        boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (printable) {
            return (char) b;
        }
        int shifted = 0;
        for (int x = 0; x < b; x++) {
            boolean p = (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
            if (!p) {
                shifted++;
            }
        }
        return (char) (256 + shifted);
    }

    /** This vocabulary as a Hugging Face {@code tokenizer.json}. */
    public static String tokenizerJson() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode eot = added.addObject();
        eot.put("id", END_OF_TEXT);
        eot.put("content", END_OF_TEXT_TOKEN);
        eot.put("single_word", false);
        eot.put("lstrip", false);
        eot.put("rstrip", false);
        eot.put("normalized", false);
        eot.put("special", true);
        root.putNull("normalizer");
        ObjectNode byteLevel = json.createObjectNode();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", false);
        byteLevel.put("trim_offsets", true);
        byteLevel.put("use_regex", false);
        root.set("pre_tokenizer", byteLevel);
        root.putNull("post_processor");
        root.set("decoder", byteLevel.deepCopy());
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(byteChar(b)), b);
        }
        vocab.put(END_OF_TEXT_TOKEN, END_OF_TEXT);
        model.putArray("merges");
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private ByteTokenizer() {
    }
}
