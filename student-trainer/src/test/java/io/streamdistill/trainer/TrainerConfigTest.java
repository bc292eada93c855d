package io.streamdistill.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainerConfigTest {
    private static Map<String, String> minimal() {
        return new HashMap<>(Map.of("bootstrap.servers", "b:9092", "schema.registry.url", "http://r:8081",
                "student.classes", "pos,neg"));
    }

    private static Map<String, String> with(String key, String value) {
        Map<String, String> m = minimal();
        m.put(key, value);
        return m;
    }

    @Test
    void defaultsAreValidAndOverridesApply() {
        TrainerConfig c = TrainerConfig.of(with("training.temperature", "3"));
        assertThat(c.trainingConfig().temperature()).isEqualTo(3f);
        assertThat(c.studentConfig(100).classNames()).containsExactly("pos", "neg");
        assertThat(c.studentConfig(100).vocabSize()).isEqualTo(100);
    }

    @Test
    void everyBadValueIsNamed() {
        assertThatThrownBy(() -> TrainerConfig.of(Map.of("schema.registry.url", "http://r")))
                .hasMessageContaining("bootstrap.servers is required");
        assertThatThrownBy(() -> TrainerConfig.of(with("student.classes", "only-one")))
                .hasMessageContaining("student.classes").hasMessageContaining("only-one");
        assertThatThrownBy(() -> TrainerConfig.of(with("student.task", "REGRESSION")))
                .hasMessageContaining("student.task").hasMessageContaining("REGRESSION");
        assertThatThrownBy(() -> TrainerConfig.of(with("training.temperature", "-1")))
                .hasMessageContaining("training.temperature");
        assertThatThrownBy(() -> TrainerConfig.of(with("training.temprature", "2")))
                .hasMessageContaining("unknown setting 'training.temprature'");
        assertThatThrownBy(() -> TrainerConfig.of(with("training.alpha", "lots")))
                .hasMessageContaining("training.alpha").hasMessageContaining("lots");
        assertThatThrownBy(() -> TrainerConfig.of(with("batch.size", "0"))).hasMessageContaining("batch.size");
        assertThatThrownBy(() -> TrainerConfig.of(with("export.every.records", "never"))).hasMessageContaining("export.every.records");
        assertThatThrownBy(() -> TrainerConfig.of(with("gate.min.agreement", "1.5"))).hasMessageContaining("gate.min.agreement");
        assertThatThrownBy(() -> TrainerConfig.of(with("starting.offsets", "yesterday"))).hasMessageContaining("starting.offsets")
                .hasMessageContaining("yesterday");
        assertThatThrownBy(() -> TrainerConfig.of(with("bounded.end", "timestamp:soon"))).hasMessageContaining("bounded.end");
        assertThatThrownBy(() -> TrainerConfig.of(with("artifact.dir", "no-scheme/path"))).hasMessageContaining("artifact.dir");
        assertThatThrownBy(() -> TrainerConfig.of(with("holdout.percent", "80"))).hasMessageContaining("holdout.percent");
        assertThatThrownBy(() -> TrainerConfig.of(with("grup.id", "x"))).hasMessageContaining("unknown setting 'grup.id'");
    }

    @Test
    void holdoutSliceIsStableAndRoughlyItsShare() {
        int held = 0;
        for (int i = 0; i < 10_000; i++) {
            if (io.streamdistill.student.train.HoldoutSlice.contains("id-" + i, 10)) {
                held++;
            }
        }
        assertThat(held).isBetween(900, 1100);
        assertThat(io.streamdistill.student.train.HoldoutSlice.contains("same", 10)).isEqualTo(io.streamdistill.student.train.HoldoutSlice.contains("same", 10));
        assertThat(io.streamdistill.student.train.HoldoutSlice.contains("anything", 0)).isFalse();
    }

    @Test
    void trainParallelismIsBoundedAndNeedsAnUnboundedJob() {
        assertThatThrownBy(() -> TrainerConfig.of(with("train.parallelism", "0"))).hasMessageContaining("train.parallelism");
        Map<String, String> bounded = with("train.parallelism", "2");
        bounded.put("bounded.end", "latest");
        assertThatThrownBy(() -> TrainerConfig.of(bounded)).hasMessageContaining("train.parallelism")
                .hasMessageContaining("bounded.end=none");
        TrainerConfig two = TrainerConfig.of(with("train.parallelism", "2"));
        assertThat(two.syncTopic()).isEqualTo("distill.checkpoints.sync");
        assertThat(two.shapingSettings()).containsEntry("train.parallelism", "2").doesNotContainKey("sync.topic");
    }
}
