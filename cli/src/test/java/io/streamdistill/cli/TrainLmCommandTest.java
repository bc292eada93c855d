package io.streamdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train-lm}: a small causal LM on the bundled corpus's texts, its held-out perplexity falling as it trains,
 * stopped and resumed where it was, and exported as model.onnx + tokenizer.json + teacher.json that ONNX Runtime runs.
 */
class TrainLmCommandTest {

    @Test
    void itTrainsResumesAndExportsACausalLm(@TempDir Path dir) throws Exception {
        List<String> texts = Corpus.bundled().rows().stream().map(Corpus.Row::text).limit(1200).toList();
        Path corpus = dir.resolve("texts.txt");
        Files.write(corpus, texts);
        Path out = dir.resolve("lm");
        String[] common = {"train-lm", "--corpus", corpus.toString(), "--out", out.toString(), "--spec",
                "layers=1,width=32,heads=2,ffn=64,context=48", "--batch", "8", "--eval-every", "40"};
        String first = run(common, "--steps", "80");
        String second = run(common, "--steps", "160");
        assertThat(second).contains("resuming at step 80 of 160");
        List<Double> perplexities = new ArrayList<>();
        Matcher m = Pattern.compile("held-out perplexity ([0-9.]+)").matcher(first + second);
        while (m.find()) {
            perplexities.add(Double.parseDouble(m.group(1)));
        }
        assertThat(perplexities).as("at steps 40, 80 (first run), 120, 160 (resumed)").hasSizeGreaterThanOrEqualTo(4);
        assertThat(perplexities.get(perplexities.size() - 1)).as("held-out perplexity per byte, from %s", perplexities)
                .isLessThan(perplexities.get(0) / 2).isLessThan(30);

        JsonNode descriptor = new ObjectMapper().readTree(out.resolve("teacher.json").toFile());
        assertThat(descriptor.get("task").asText()).isEqualTo("LANGUAGE_MODEL");
        assertThat(descriptor.at("/trained/steps").asLong()).isEqualTo(160);
        assertThat(out.resolve("tokenizer.json")).isRegularFile();
        long[] ids = "a small furry animal".chars().mapToLong(c -> c).toArray();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(out.resolve("model.onnx").toString(), new OrtSession.SessionOptions());
             OnnxTensor in = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {1, ids.length});
             OrtSession.Result r = session.run(Map.of("input_ids", in, "attention_mask", ones(env, ids.length)))) {
            float[][][] logits = (float[][][]) r.get("logits").orElseThrow().getValue();
            assertThat(logits[0]).hasNumberOfRows(ids.length);
            assertThat(logits[0][0]).hasSize(257);
        }
    }

    private static OnnxTensor ones(OrtEnvironment env, int n) throws Exception {
        long[] ones = new long[n];
        java.util.Arrays.fill(ones, 1);
        return OnnxTensor.createTensor(env, LongBuffer.wrap(ones), new long[] {1, n});
    }

    private static String run(String[] common, String... more) {
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(common), java.util.Arrays.stream(more)).toArray(String[]::new);
        PrintStream saved = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = Main.run(args);
        } finally {
            System.setOut(saved);
        }
        String text = printed.toString(StandardCharsets.UTF_8);
        System.out.print(text);
        assertThat(exit).as(text).isZero();
        return text;
    }
}
