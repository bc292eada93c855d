package io.streamdistill.student.transformer;

/**
 * The shape of a BERT-style encoder: post-LayerNorm blocks with GELU, as MiniLM and BERT lay them
 * out, so that a teacher's layers load as they are.
 *
 * @param vocab        token vocabulary (the teacher's)
 * @param width        hidden width
 * @param layers       encoder blocks
 * @param heads        attention heads (width must divide by it)
 * @param ffn          feed-forward width
 * @param maxPositions longest sequence, in tokens
 * @param typeVocab    token-type ids the embeddings hold (2 for BERT-style teachers, 0 for none)
 * @param eps          LayerNorm epsilon (BERT: 1e-12)
 * @param pooling      how a sequence becomes one vector
 */
public record EncoderSpec(int vocab, int width, int layers, int heads, int ffn, int maxPositions, int typeVocab, float eps,
                          Pooling pooling) {

    /** Mean over every token of the sequence (special tokens included), or the first token's vector. */
    public enum Pooling { MEAN, CLS }

    public EncoderSpec {
        require(vocab >= 1, "vocab", vocab);
        require(width >= 1, "width", width);
        require(layers >= 0 && layers <= 24, "layers", layers);
        require(heads >= 1 && width % heads == 0, "heads", heads + " (width " + width + " must divide by it)");
        require(ffn >= 1, "ffn", ffn);
        require(maxPositions >= 1, "maxPositions", maxPositions);
        require(typeVocab >= 0, "typeVocab", typeVocab);
        require(eps > 0, "eps", eps);
        if (pooling == null) {
            throw new IllegalArgumentException("pooling must be MEAN or CLS");
        }
    }

    private static void require(boolean ok, String field, Object value) {
        if (!ok) {
            throw new IllegalArgumentException("encoder " + field + " is invalid: " + value);
        }
    }

    /** The same encoder with {@code n} blocks. */
    public EncoderSpec withLayers(int n) {
        return new EncoderSpec(vocab, width, n, heads, ffn, maxPositions, typeVocab, eps, pooling);
    }
}
