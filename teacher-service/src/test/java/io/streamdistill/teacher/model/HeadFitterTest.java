package io.streamdistill.teacher.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.student.train.Rng;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeadFitterTest {
    static final List<String> CLASSES = List.of("a", "b", "c");

    /** Three well-separated clusters of unit vectors in 16 dimensions. */
    static float[][] points(int n, int[] y, long seed) {
        Rng rng = new Rng(seed);
        float[][] x = new float[n][16];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            for (int j = 0; j < 16; j++) {
                x[i][j] = (float) (rng.nextGaussian() * 0.3 + (j == y[i] ? 3 : 0));
            }
            double len = 0;
            for (float v : x[i]) {
                len += v * v;
            }
            for (int j = 0; j < 16; j++) {
                x[i][j] /= (float) Math.sqrt(len);
            }
        }
        return x;
    }

    static List<String> keys(int n) {
        List<String> k = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            k.add("row " + i);
        }
        return k;
    }

    @Test
    void aSeparableSetIsLearnedPerfectlyAndCalibrated(@TempDir Path dir) throws Exception {
        int n = 300;
        int[] y = new int[n];
        float[][] x = points(n, y, 1);
        HeadFitter.Fitted f = HeadFitter.fit(x, y, CLASSES, keys(n), 5, 20f);
        assertThat(f.report().head().accuracy()).isEqualTo(1.0);
        assertThat(f.report().head().macroF1()).isEqualTo(1.0);
        assertThat(f.report().prototypes().accuracy()).isGreaterThan(0.95);
        assertThat(f.report().head().eceAfter()).isLessThanOrEqualTo(f.report().head().eceBefore() + 1e-9);
        assertThat(f.report().head().perClass()).extracting(HeadFitter.ClassScores::support).containsExactly(100, 100, 100);

        // The file is a linear head the teacher loads, with the report at its top level.
        Path file = dir.resolve("head.json");
        f.write(file);
        LinearHead head = LinearHead.read(file, 16);
        assertThat(head.classNames()).containsExactly("a", "b", "c");
        assertThat(head.logits(x[4])).hasSize(3);
        int correct = 0;
        for (int i = 0; i < n; i++) {
            float[] z = head.logits(x[i]);
            int best = z[0] >= z[1] && z[0] >= z[2] ? 0 : z[1] >= z[2] ? 1 : 2;
            correct += best == y[i] ? 1 : 0;
        }
        assertThat(correct).isEqualTo(n);
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        for (String field : List.of("classes", "cv_accuracy", "cv_macro_f1", "prototype_cv_accuracy", "ece_before", "ece_after",
                "temperature", "sha256")) {
            assertThat(json.has(field)).as(field).isTrue();
        }
        assertThat(json.get("sha256").asText()).isEqualTo(f.sha256()).hasSize(64);
    }

    @Test
    void shuffledLabelsGiveAboutChance() {
        int n = 600;
        int[] y = new int[n];
        float[][] x = points(n, y, 2);
        List<Integer> labels = new ArrayList<>();
        for (int v : y) {
            labels.add(v);
        }
        Collections.shuffle(labels, new Random(3));
        for (int i = 0; i < n; i++) {
            y[i] = labels.get(i);
        }
        HeadFitter.Fitted f = HeadFitter.fit(x, y, CLASSES, keys(n), 5, 20f);
        assertThat(f.report().head().accuracy()).isCloseTo(1 / 3.0, within(0.08));
    }

    @Test
    void aRowsFoldDependsOnItsKeyAlone() {
        assertThat(HeadFitter.fold("the same text", 5)).isEqualTo(HeadFitter.fold("the same text", 5));
        int[] counts = new int[5];
        for (int i = 0; i < 5000; i++) {
            counts[HeadFitter.fold("text number " + i, 5)]++;
        }
        for (int c : counts) {
            assertThat(c).isBetween(850, 1150);
        }
    }
}
