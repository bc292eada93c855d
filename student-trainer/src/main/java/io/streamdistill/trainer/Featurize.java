package io.streamdistill.trainer;

import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.HoldoutSlice;
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
        r.holdout = r.randomShare && HoldoutSlice.contains(r.id, holdoutPercent);
        return r;
    }

    @Override
    public void close() {
        if (tok != null) {
            tok.close();
        }
    }

    /** The built-in MiniLM tokenizer (from the model jar) or a tokenizer.json path. */
    static TextTokenizer loadTokenizer(String name, int maxTokens) {
        return StudentTokenizers.load(name, maxTokens);
    }
}
