package io.streamdistill.trainer;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A named student, instead of a page of knobs: {@code --preset fast|balanced|quality} on demo, train
 * and replay. A preset is a set of trainer settings laid under the user's own, so every one of them
 * stays overridable. {@code student.init=teacher} names no file: the command that knows the teacher
 * puts its ONNX file there ({@link #TEACHER_INIT}).
 *
 * <p>Speeds are the exported student's in ONNX Runtime against the teacher (all-MiniLM-L6-v2) at
 * batch 32, measured by {@code mvn -pl student-model exec:exec@transformer-benchmark} (docs/benchmarks.md).
 */
public enum Preset {
    /** The bag of token embeddings: hundreds of times faster than the teacher, trains at tens of thousands of records/s. */
    FAST("a bag of token embeddings (today's student): a table lookup, hundreds of times faster than the teacher",
            Map.of("student.arch", "bag")),
    /** The teacher's embeddings and its last block: 5.6-6.2x faster than the teacher. */
    BALANCED("a transformer of the teacher's embeddings and its last block (DistilBERT's start): 5.6-6.2x faster than the teacher",
            transformer(1)),
    /** The teacher's embeddings and two of its blocks, every other one ending with the last: 2.5-3.1x faster. */
    QUALITY("a transformer of the teacher's embeddings and two of its blocks (every other, ending with the last): 2.5-3.1x faster"
            + " than the teacher", transformer(2));

    /** What {@code student.init} says in a preset: the command replaces it with {@code teacher:<the teacher's ONNX file>}. */
    public static final String TEACHER_INIT = "teacher";

    private final String description;
    private final Map<String, String> settings;

    Preset(String description, Map<String, String> settings) {
        this.description = description;
        this.settings = settings;
    }

    private static Map<String, String> transformer(int blocks) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("student.arch", "transformer");
        s.put("student.init", TEACHER_INIT);
        s.put("student.init.blocks", "last:" + blocks);
        // A student that starts as part of its teacher takes small steps; a random one's rate would undo what it starts with.
        s.put("training.learningRate", "0.0003");
        return s;
    }

    /** The preset's name as users type it. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String description() {
        return description;
    }

    /** Whether the student is made of the teacher's own blocks (the command must name the teacher's file). */
    public boolean fromTeacher() {
        return TEACHER_INIT.equals(settings.get("student.init"));
    }

    /** The preset's settings, in a new map the caller may change. */
    public Map<String, String> settings() {
        return new LinkedHashMap<>(settings);
    }

    /** The preset's settings with {@code own} over them: what the user set wins. */
    public Map<String, String> under(Map<String, String> own) {
        Map<String, String> out = settings();
        out.putAll(own);
        return out;
    }

    /** The preset named {@code name} (any case), or an error naming the choices. */
    public static Preset parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (Preset p : values()) {
            if (p.id().equals(n)) {
                return p;
            }
        }
        throw new IllegalArgumentException("--preset must be one of " + Arrays.stream(values()).map(Preset::id)
                .collect(Collectors.joining(", ")) + ", got '" + name + "'");
    }
}
