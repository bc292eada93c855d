package io.streamdistill.teacher.model;

import io.streamdistill.records.Task;
import io.streamdistill.student.tokenize.ClasspathFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Teachers whose ONNX model and tokenizer ship inside Maven Central jars (langchain4j's model
 * jars, on the classpath): nothing is downloaded at run time. Their files are copied once into
 * the cache ({@link ClasspathFiles}) because ONNX Runtime and the tokenizer read files.
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
        Path dir = ClasspathFiles.cacheDir("teachers").resolve(id.toLowerCase(Locale.ROOT));
        return new TeacherDescriptor(id, ClasspathFiles.extract(modelResource, dir), ClasspathFiles.extract(tokenizerResource, dir),
                pooling, true,
                null, maxTokens, Task.EMBEDDING, null);
    }
}
