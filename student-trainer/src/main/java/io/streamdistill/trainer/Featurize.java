package io.streamdistill.trainer;

import io.streamdistill.student.tokenize.ClasspathFiles;
import io.streamdistill.student.tokenize.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/** Tokenises with the student's tokenizer and decides the holdout slice (parallel, stateless). */
final class Featurize extends RichMapFunction<TargetRecord, TargetRecord> {
    private static final long serialVersionUID = 1L;

    private final String tokenizer;
    private final int maxTokens;
    private final int holdoutPercent;
    private transient TextTokenizer tok;

    Featurize(String tokenizer, int maxTokens, int holdoutPercent) {
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.holdoutPercent = holdoutPercent;
    }

    @Override
    public void open(OpenContext context) {
        tok = loadTokenizer(tokenizer, maxTokens);
    }

    @Override
    public TargetRecord map(TargetRecord r) {
        r.tokens = tok.encode(r.text);
        r.holdout = isHoldout(r.id, holdoutPercent);
        return r;
    }

    @Override
    public void close() {
        if (tok != null) {
            tok.close();
        }
    }

    /**
     * Whether an id belongs to the holdout slice: its hash falls in the first {@code percent} of
     * 100 buckets. Stable across runs and machines, so the same records are held out in a replay.
     */
    static boolean isHoldout(String id, int percent) {
        int h = 0x811c9dc5;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x01000193; // FNV-1a
        }
        return Integer.remainderUnsigned(h, 100) < percent;
    }

    /** The built-in MiniLM tokenizer (from the model jar) or a tokenizer.json path. */
    static TextTokenizer loadTokenizer(String name, int maxTokens) {
        if (name.equalsIgnoreCase("all-MiniLM-L6-v2")) {
            Path file = ClasspathFiles.extract("all-minilm-l6-v2-tokenizer.json", ClasspathFiles.cacheDir("teachers").resolve("all-minilm-l6-v2"));
            return TextTokenizer.load(file, "all-MiniLM-L6-v2", maxTokens);
        }
        Path file = Path.of(name);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("student.tokenizer '" + name + "' is neither all-MiniLM-L6-v2 nor a tokenizer.json file");
        }
        return TextTokenizer.load(file, file.getFileName().toString(), maxTokens);
    }
}
