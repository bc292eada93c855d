package io.streamdistill.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.student.tokenize.MiniLmFiles;
import io.streamdistill.student.train.Learner;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The presets' settings, how the user's own go over them, and the teacher blocks they choose, on MiniLM's real file. */
class PresetTest {
    @Test
    void aPresetIsNamedInAnyCaseAndABadNameListsTheChoices() {
        assertThat(Preset.parse(" Balanced ")).isEqualTo(Preset.BALANCED);
        assertThatThrownBy(() -> Preset.parse("fastest")).hasMessage("--preset must be one of fast, balanced, quality, got 'fastest'");
    }

    @Test
    void theUsersSettingsGoOverThePresets() {
        Map<String, String> s = Preset.QUALITY.under(Map.of("training.learningRate", "0.001", "batch.size", "16"));
        assertThat(s).containsEntry("training.learningRate", "0.001").containsEntry("batch.size", "16")
                .containsEntry("student.arch", "transformer").containsEntry("student.init.blocks", "last:2")
                .containsEntry("student.init", Preset.TEACHER_INIT);
        assertThat(Preset.FAST.fromTeacher()).isFalse();
        assertThat(Preset.BALANCED.fromTeacher()).isTrue();
    }

    @Test
    void lastKTakesEveryOtherBlockEndingWithTheLastWhateverTheTeachersDepth() {
        assertThat(StudentInit.Blocks.parse("last:1").of(6)).containsExactly(5);
        assertThat(StudentInit.Blocks.parse("last:2").of(6)).containsExactly(3, 5);
        assertThat(StudentInit.Blocks.parse("last:2").of(12)).containsExactly(9, 11);
        assertThat(StudentInit.Blocks.parse("").of(6)).as("blank: DistilBERT's every other block").containsExactly(1, 3, 5);
        assertThat(StudentInit.Blocks.parse(" 0, 2 ").of(6)).containsExactly(0, 2);
        assertThatThrownBy(() -> StudentInit.Blocks.parse("last:4").of(6)).hasMessageContaining("at most last:3");
        assertThatThrownBy(() -> StudentInit.Blocks.parse("last:0")).hasMessageContaining("K must be in 1..6");
        assertThatThrownBy(() -> StudentInit.Blocks.parse("first:2")).hasMessageContaining("1,3,5) or last:K, got 'first:2'");
    }

    /** Each transformer preset, given MiniLM's file, builds a student of the teacher's width and the preset's depth. */
    @Test
    void theTransformerPresetsBuildStudentsOfTheTeachersOwnBlocks() {
        for (Preset p : new Preset[] {Preset.BALANCED, Preset.QUALITY}) {
            Map<String, String> s = new HashMap<>(p.settings());
            s.putAll(Map.of("bootstrap.servers", "localhost:9092", "schema.registry.url", "http://localhost:8081",
                    "input.topic", "in", "output.topic", "out", "student.name", "preset", "student.task", "EMBEDDING",
                    "student.output.dim", "384", "artifact.dir", "file:///tmp/preset"));
            s.put("student.init", "teacher:" + MiniLmFiles.model());
            TrainerConfig config = TrainerConfig.of(s);
            Learner learner = StudentInit.of(config).create(config.studentConfig(30522), config.trainingConfig());
            int blocks = p == Preset.BALANCED ? 1 : 2;
            assertThat(learner.describe()).as(p.id()).startsWith("transformer " + blocks + "x384 (12 heads, ffn 1536");
            assertThat(learner.training().learningRate()).isEqualTo(3e-4f);
        }
    }
}
