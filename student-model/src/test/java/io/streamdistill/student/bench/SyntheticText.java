package io.streamdistill.student.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.student.train.Rng;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Benchmark text: whole words from a tokenizer's own vocabulary drawn with Zipf's law (weight
 * 1/rank), as word frequencies in natural text fall. Uniform draws would touch far more distinct
 * embedding rows per batch than real traffic does.
 */
public final class SyntheticText {
    public static List<String> sentences(Path tokenizerJson, int n, int words, long seed) {
        return sentences(tokenizerJson, n, words, seed, Integer.MAX_VALUE);
    }

    /** Like {@link #sentences(Path, int, int, long)} over only the {@code vocabulary} most frequent words. */
    public static List<String> sentences(Path tokenizerJson, int n, int words, long seed, int vocabulary) {
        JsonNode vocab;
        try {
            vocab = new ObjectMapper().readTree(tokenizerJson.toFile()).path("model").path("vocab");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> plain = new ArrayList<>();
        vocab.fieldNames().forEachRemaining(w -> {
            if (w.matches("[a-z]{3,}")) {
                plain.add(w);
            }
        });
        Collections.shuffle(plain, new Random(7)); // rank order unrelated to vocabulary order
        if (plain.size() > vocabulary) {
            plain.subList(vocabulary, plain.size()).clear();
        }
        double[] cumulative = new double[plain.size()];
        double total = 0;
        for (int r = 0; r < cumulative.length; r++) {
            total += 1.0 / (r + 1);
            cumulative[r] = total;
        }
        Rng rng = new Rng(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            StringBuilder s = new StringBuilder();
            for (int w = 0; w < words; w++) {
                int rank = Arrays.binarySearch(cumulative, rng.nextDouble() * total);
                rank = rank >= 0 ? rank : -rank - 1;
                s.append(w == 0 ? "" : " ").append(plain.get(Math.min(rank, plain.size() - 1)));
            }
            out.add(s.toString());
        }
        return out;
    }

    private SyntheticText() {
    }
}
