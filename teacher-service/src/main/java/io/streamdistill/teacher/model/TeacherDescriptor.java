package io.streamdistill.teacher.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.records.Task;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a teacher is: an ONNX encoder, its tokenizer.json, how to pool and normalise its output,
 * and for classification a head. Read from a JSON file so that any Hugging Face encoder exported
 * to ONNX can be a teacher:
 *
 * <pre>{@code
 * {"id": "my-encoder", "model": "model.onnx", "tokenizer": "tokenizer.json",
 *  "pooling": "MEAN", "normalize": true, "output": "last_hidden_state", "maxTokens": 256,
 *  "task": "CLASSIFICATION",
 *  "head": {"type": "prototypes", "scale": 20, "examples": {"sport": ["..."], "politics": ["..."]}}}
 * }</pre>
 *
 * or {@code "head": {"type": "linear", "file": "head.json"}} with
 * {@code {"classes": [...], "weights": [[...], ...], "bias": [...]}}. Relative paths are resolved
 * against the descriptor's directory.
 */
public record TeacherDescriptor(String id, Path model, Path tokenizer, Pooling pooling, boolean normalize,
                                String outputName, int maxTokens, Task task, HeadSpec head) {

    /** A classification head: class prototypes from labelled examples, or a linear head file. */
    public sealed interface HeadSpec permits PrototypeSpec, LinearSpec {
    }

    /** logits = scale x cosine(embedding, mean embedding of the class's examples). */
    public record PrototypeSpec(Map<String, List<String>> examples, float scale) implements HeadSpec {
    }

    /** logits = W x embedding + b, from a JSON file. */
    public record LinearSpec(Path file) implements HeadSpec {
    }

    public TeacherDescriptor {
        require(id != null && !id.isBlank(), "id", id, "is required");
        require(model != null, "model", model, "is required (path to the ONNX file)");
        require(tokenizer != null, "tokenizer", tokenizer, "is required (path to tokenizer.json)");
        require(pooling != null, "pooling", pooling, "must be MEAN or CLS");
        require(maxTokens >= 2 && maxTokens <= 8192, "maxTokens", maxTokens, "must be in 2..8192");
        require(task == Task.EMBEDDING || task == Task.CLASSIFICATION, "task", task, "must be EMBEDDING or CLASSIFICATION");
        require(task != Task.CLASSIFICATION || head != null, "head", null, "is required for a CLASSIFICATION teacher");
        if (head instanceof PrototypeSpec p) {
            require(p.examples().size() >= 2, "head.examples", p.examples().keySet(), "must name at least 2 classes");
            p.examples().forEach((cls, texts) -> require(!texts.isEmpty(), "head.examples." + cls, texts,
                    "must hold at least one example text"));
            require(p.scale() > 0, "head.scale", p.scale(), "must be > 0");
        }
    }

    private static void require(boolean ok, String field, Object value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("teacher." + field + " " + rule + ", got " + value);
        }
    }

    /** The same teacher with a classification head (the built-in encoders are embedding teachers). */
    public TeacherDescriptor withHead(HeadSpec newHead, String newId) {
        return new TeacherDescriptor(newId, model, tokenizer, pooling, normalize, outputName, maxTokens,
                Task.CLASSIFICATION, newHead);
    }

    public TeacherDescriptor withMaxTokens(int n) {
        return new TeacherDescriptor(id, model, tokenizer, pooling, normalize, outputName, n, task, head);
    }

    /** Writes this descriptor as a file {@link #read} loads: paths absolute, the head inline (prototypes) or by its file. */
    public void write(Path file) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("id", id);
        json.put("model", model.toAbsolutePath().toString());
        json.put("tokenizer", tokenizer.toAbsolutePath().toString());
        json.put("pooling", pooling.name());
        json.put("normalize", normalize);
        if (outputName != null) {
            json.put("output", outputName);
        }
        json.put("maxTokens", maxTokens);
        json.put("task", task.name());
        if (head instanceof PrototypeSpec p) {
            json.put("head", Map.of("type", "prototypes", "scale", p.scale(), "examples", p.examples()));
        } else if (head instanceof LinearSpec l) {
            json.put("head", Map.of("type", "linear", "file", l.file().toAbsolutePath().toString()));
        }
        try {
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), json);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write the teacher descriptor " + file, e);
        }
    }

    /** Reads a descriptor file (see the class comment). */
    public static TeacherDescriptor read(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the teacher descriptor " + file + ": " + e.getMessage(), e);
        }
        Path dir = file.toAbsolutePath().getParent();
        HeadSpec head = null;
        JsonNode h = root.path("head");
        if (!h.isMissingNode() && !h.isNull()) {
            String type = h.path("type").asText("");
            if (type.equals("prototypes")) {
                Map<String, List<String>> examples = new LinkedHashMap<>();
                h.path("examples").fields().forEachRemaining(e -> {
                    List<String> texts = new ArrayList<>();
                    e.getValue().forEach(t -> texts.add(t.asText()));
                    examples.put(e.getKey(), texts);
                });
                head = new PrototypeSpec(examples, (float) h.path("scale").asDouble(20));
            } else if (type.equals("linear")) {
                head = new LinearSpec(dir.resolve(h.path("file").asText()));
            } else {
                throw new IllegalArgumentException("teacher.head.type must be 'prototypes' or 'linear', got '" + type + "' in " + file);
            }
        }
        Task task = Task.valueOf(root.path("task").asText(head == null ? "EMBEDDING" : "CLASSIFICATION").toUpperCase());
        return new TeacherDescriptor(
                root.path("id").asText(null),
                root.hasNonNull("model") ? dir.resolve(root.get("model").asText()) : null,
                root.hasNonNull("tokenizer") ? dir.resolve(root.get("tokenizer").asText()) : null,
                Pooling.valueOf(root.path("pooling").asText("MEAN").toUpperCase()),
                root.path("normalize").asBoolean(true),
                root.path("output").asText(null),
                root.path("maxTokens").asInt(256),
                task,
                head);
    }

    /**
     * A teacher by name: a built-in id ({@link BuiltInTeachers}), a descriptor file, or a directory
     * holding {@code teacher.json} (a descriptor) or {@code model.onnx} + {@code tokenizer.json} (an
     * embedding teacher with mean pooling).
     */
    public static TeacherDescriptor resolve(String nameOrPath) {
        BuiltInTeachers builtIn = BuiltInTeachers.byId(nameOrPath);
        if (builtIn != null) {
            return builtIn.descriptor();
        }
        Path p = Path.of(nameOrPath);
        if (Files.isRegularFile(p)) {
            return read(p);
        }
        if (Files.isDirectory(p)) {
            if (Files.isRegularFile(p.resolve("teacher.json"))) {
                return read(p.resolve("teacher.json"));
            }
            if (Files.isRegularFile(p.resolve("model.onnx")) && Files.isRegularFile(p.resolve("tokenizer.json"))) {
                return new TeacherDescriptor(p.getFileName().toString(), p.resolve("model.onnx"), p.resolve("tokenizer.json"),
                        Pooling.MEAN, true, null, 256, Task.EMBEDDING, null);
            }
            throw new IllegalArgumentException("teacher directory " + p + " holds neither teacher.json nor model.onnx + tokenizer.json");
        }
        throw new IllegalArgumentException("teacher '" + nameOrPath + "' is neither a built-in teacher " + BuiltInTeachers.ids()
                + " nor a descriptor file or directory");
    }

    /** Where file content lives, for the teacher's fingerprint. */
    public List<Path> files() {
        List<Path> files = new ArrayList<>(List.of(model, tokenizer));
        if (head instanceof LinearSpec l) {
            files.add(l.file());
        }
        return files;
    }

    static boolean exists(Path p) {
        return p != null && Files.isRegularFile(p);
    }
}
