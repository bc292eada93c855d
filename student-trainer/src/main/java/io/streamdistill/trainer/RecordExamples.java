package io.streamdistill.trainer;

import io.streamdistill.records.TeacherRef;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Example;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the training operators need to turn soft targets into training examples: the student's
 * architecture for the configured tokenizer, its label index, and the importance-weight rule.
 */
final class RecordExamples {
    private final StudentConfig studentConfig;
    private final String tokenizerId;
    private final Map<String, Integer> classIndex = new LinkedHashMap<>();
    private final boolean importanceWeights;

    RecordExamples(TrainerConfig config) {
        try (TextTokenizer tok = Featurize.loadTokenizer(config.string("student.tokenizer"), config.integer("student.max.tokens"))) {
            tokenizerId = tok.id();
            studentConfig = config.studentConfig(tok.vocabSize());
        }
        for (int i = 0; i < studentConfig.classNames().size(); i++) {
            classIndex.put(studentConfig.classNames().get(i), i);
        }
        importanceWeights = config.bool("importance.weights");
    }

    StudentConfig studentConfig() {
        return studentConfig;
    }

    String tokenizerId() {
        return tokenizerId;
    }

    Example example(TargetRecord r) {
        int label = r.label == null ? -1 : classIndex.getOrDefault(r.label, -1);
        // Importance weight 1/p: records only a random draw could send count for the ones skipped beside them.
        float weight = importanceWeights ? (float) (1 / r.inclusionProbability) : 1f;
        return new Example(r.tokens, r.teacher, label, weight, r.teacherEmbedding);
    }

    /** The teacher of {@code r}: {@code current} when it is the same one. */
    static TeacherRef teacher(TeacherRef current, TargetRecord r) {
        if (current != null && current.getSha256().equals(r.teacherSha256)) {
            return current;
        }
        return TeacherRef.newBuilder().setModelId(r.teacherModelId).setSha256(r.teacherSha256).setTokenizer(r.teacherTokenizer).build();
    }
}
