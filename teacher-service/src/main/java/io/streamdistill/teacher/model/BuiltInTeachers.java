package io.streamdistill.teacher.model;

import io.streamdistill.records.Task;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * Teachers whose ONNX model and tokenizer ship inside Maven Central jars (langchain4j's model
 * jars, on the classpath): nothing is downloaded at run time. Their files are copied once into a
 * cache directory ({@code $STREAMDISTILL_CACHE_DIR/teachers}, default
 * {@code ~/.cache/streamdistill/teachers}) because ONNX Runtime and the tokenizer read files.
 */
public enum BuiltInTeachers {
    /** sentence-transformers/all-MiniLM-L6-v2, fp32, 384-d, mean pooling. The default. */
    ALL_MINILM_L6_V2("all-MiniLM-L6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json", Pooling.MEAN, 256),
    /** BAAI/bge-small-en-v1.5, int8, 384-d, CLS pooling. */
    BGE_SMALL_EN_V15_Q("bge-small-en-v1.5-q", "bge-small-en-v1.5-q.onnx", "bge-small-en-v1.5-q-tokenizer.json", Pooling.CLS, 512);

    private final String id;
    private final String modelResource;
    private final String tokenizerResource;
    private final Pooling pooling;
    private final int maxTokens;

    BuiltInTeachers(String id, String modelResource, String tokenizerResource, Pooling pooling, int maxTokens) {
        this.id = id;
        this.modelResource = modelResource;
        this.tokenizerResource = tokenizerResource;
        this.pooling = pooling;
        this.maxTokens = maxTokens;
    }

    public String id() {
        return id;
    }

    /** Finds a built-in teacher by its id, case-insensitively; null when there is none. */
    public static BuiltInTeachers byId(String id) {
        for (BuiltInTeachers t : values()) {
            if (t.id.equalsIgnoreCase(id) || t.name().equalsIgnoreCase(id.replace('-', '_').replace('.', '_'))) {
                return t;
            }
        }
        return null;
    }

    public static List<String> ids() {
        return java.util.Arrays.stream(values()).map(BuiltInTeachers::id).toList();
    }

    /** The descriptor of this embedding teacher, its files extracted into the cache. */
    public TeacherDescriptor descriptor() {
        Path dir = cacheDir().resolve(id.toLowerCase(Locale.ROOT));
        return new TeacherDescriptor(id, extract(modelResource, dir), extract(tokenizerResource, dir), pooling, true,
                null, maxTokens, Task.EMBEDDING, null);
    }

    static Path cacheDir() {
        String dir = System.getenv("STREAMDISTILL_CACHE_DIR");
        Path base = dir != null && !dir.isBlank() ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".cache", "streamdistill");
        return base.resolve("teachers");
    }

    private static Path extract(String resource, Path dir) {
        Path target = dir.resolve(resource);
        if (Files.isRegularFile(target)) {
            return target;
        }
        try (InputStream in = BuiltInTeachers.class.getResourceAsStream("/" + resource)) {
            if (in == null) {
                throw new IllegalStateException("the teacher file " + resource + " is not on the classpath: the langchain4j model"
                        + " jar that ships it is missing (see teacher-service/pom.xml)");
            }
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, resource, ".tmp");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException raced) {
                Files.deleteIfExists(tmp); // another process extracted it first
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + resource + " into " + dir, e);
        }
    }
}
