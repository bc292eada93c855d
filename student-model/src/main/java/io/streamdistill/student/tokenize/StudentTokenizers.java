package io.streamdistill.student.tokenize;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The tokenizer a student is trained and scored with, by the name the trainer's
 * {@code student.tokenizer} setting gives: {@code all-MiniLM-L6-v2} (its tokenizer.json ships inside
 * the langchain4j MiniLM model jar, which must be on the class path) or a tokenizer.json path.
 */
public final class StudentTokenizers {
    public static final String MINILM = "all-MiniLM-L6-v2";

    public static TextTokenizer load(String name, int maxTokens) {
        if (name.equalsIgnoreCase(MINILM)) {
            Path file = ClasspathFiles.extract("all-minilm-l6-v2-tokenizer.json",
                    ClasspathFiles.cacheDir("teachers").resolve("all-minilm-l6-v2"));
            return TextTokenizer.load(file, MINILM, maxTokens);
        }
        Path file = Path.of(name);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("student.tokenizer '" + name + "' is neither " + MINILM + " nor a tokenizer.json file");
        }
        return TextTokenizer.load(file, file.getFileName().toString(), maxTokens);
    }

    private StudentTokenizers() {
    }
}
