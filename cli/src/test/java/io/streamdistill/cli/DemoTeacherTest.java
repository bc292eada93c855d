package io.streamdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo keeps prototypes, and says why, when its corpus has too few labels for a fitted head. */
class DemoTeacherTest {

    @Test
    void tooFewLabelsPerClassKeepsPrototypes(@TempDir Path dir) {
        List<Corpus.Row> stream = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            stream.add(new Corpus.Row("a small animal number " + i, "animal"));
        }
        for (int i = 0; i < DemoTeacher.MIN_LABELS_PER_CLASS - 1; i++) {
            stream.add(new Corpus.Row("a bowl of soup number " + i, "food"));
            stream.add(new Corpus.Row("an unlabelled line " + i, null));
        }
        DemoTeacher.Choice c = DemoTeacher.choose(stream, dir);
        assertThat(c.head()).isEqualTo("prototypes");
        assertThat(c.reason()).isEqualTo("class 'food' has 31 labelled rows; a fitted head needs 32 per class");
        assertThat(c.fit()).isNull();
        assertThat(c.descriptor().id()).isEqualTo("all-MiniLM-L6-v2+prototypes");
        assertThat(dir.resolve("fitted-head.json")).doesNotExist();
    }

    @Test
    void manyClassesExceedTheDemosBudget(@TempDir Path dir) {
        List<Corpus.Row> stream = new ArrayList<>();
        for (int k = 0; k < 20; k++) {
            for (int i = 0; i < 40; i++) {
                stream.add(new Corpus.Row("text " + i + " of class " + k, "class" + k));
            }
        }
        DemoTeacher.Choice c = DemoTeacher.choose(stream, dir);
        assertThat(c.head()).isEqualTo("prototypes");
        assertThat(c.reason()).startsWith("20 classes: the demo fits a head on at most 512 rows");
    }
}
