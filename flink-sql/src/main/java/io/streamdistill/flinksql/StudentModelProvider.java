package io.streamdistill.flinksql;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.table.functions.PredictFunction;
import org.apache.flink.table.ml.PredictRuntimeProvider;

/** What a planned ML_PREDICT runs: one {@link StudentPredictFunction} per parallel task, built from plain settings. */
public final class StudentModelProvider implements PredictRuntimeProvider {

    /** Everything a task needs to follow the student; serialisable, as the planner ships it to the tasks. */
    public record Spec(String student, Map<String, String> clients, String checkpointsTopic, Long pinnedVersion, String tokenizer,
                       Duration firstVersionWait, List<OutputColumn> outputs, CascadeSpec cascade) implements Serializable {
        public Spec {
            clients = Map.copyOf(clients);
            outputs = List.copyOf(outputs);
        }
    }

    /**
     * A cascade: the teacher (in each task, ONNX Runtime on the CPU) answers the rows the student is least sure of.
     *
     * @param target       {@code teacher-calls=SHARE} or {@code agreement=SHARE}
     * @param teacher      a built-in id, descriptor file or directory, whose classes are the student's
     * @param topic        the soft targets whose held-out records calibrate it
     * @param holdoutTexts at most this many of them
     */
    public record CascadeSpec(String target, String teacher, String topic, int holdoutTexts) implements Serializable {
    }

    private final Spec spec;

    StudentModelProvider(Spec spec) {
        this.spec = spec;
    }

    @Override
    public PredictFunction createPredictFunction(Context context) {
        return new StudentPredictFunction(spec);
    }

    @Override
    public StudentModelProvider copy() {
        return new StudentModelProvider(spec);
    }
}
