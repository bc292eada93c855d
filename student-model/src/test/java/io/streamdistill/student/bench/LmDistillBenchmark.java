package io.streamdistill.student.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.math.Kernels;
import io.streamdistill.student.transformer.CausalLm;
import io.streamdistill.student.transformer.EncoderParams;
import io.streamdistill.student.transformer.EncoderSpec;
import io.streamdistill.student.transformer.LmTrainer;
import io.streamdistill.student.transformer.LmWindows;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Does distillation beat training on text alone (the seed's central claim)? A teacher from {@code train-lm}
 * ({@code -Dbench.teacher=DIR/state.bin}) and, per corpus, two students of one shape from the same weights on the
 * same windows for the same steps: one on next-token cross-entropy alone, one on {@code α · KD + (1 − α) · CE}
 * ({@code bench.alpha}, 0.5) with the
 * teacher's top-{@code bench.k} next-token logits and the tail bucket. Held-out perplexity (per byte) of both and of
 * the teacher; every 20th text is held out.
 *
 * <pre>mvn -pl student-model exec:exec@lm-distill-benchmark -Dbench.teacher=/tmp/lm/state.bin
 *     -Dbench.corpora=corpus/general/out/general.txt,corpus/benchmark/out/sotu.csv [-Dbench.steps=400]</pre>
 * Writes {@code student-model/target/benchmarks/lm-distill.json}.
 */
public final class LmDistillBenchmark {

    public static void main(String[] args) throws Exception {
        Path teacherState = Path.of(System.getProperty("bench.teacher", "/tmp/lm-general/state.bin"));
        String[] corpora = System.getProperty("bench.corpora", "corpus/general/out/general.txt,corpus/benchmark/out/sotu.csv").split(",");
        int steps = Integer.getInteger("bench.steps", 400);
        int k = Integer.getInteger("bench.k", 32);
        float alpha = Float.parseFloat(System.getProperty("bench.alpha", "0.5"));
        int batch = 8;
        int context = 64;
        Gemm gemm = Kernels.gemm();
        CausalLm teacher;
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(teacherState)))) {
            teacher = LmTrainer.readFrom(in, gemm).model();
        }
        EncoderSpec studentSpec = new EncoderSpec(teacher.spec().vocab(), 32, 1, 2, 128, context, 0, 1e-12f, EncoderSpec.Pooling.MEAN);
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("teacher", teacher.spec().toString());
        results.put("student", studentSpec.toString());
        results.put("steps", steps);
        results.put("batch", batch);
        results.put("k", k);
        results.put("alpha", alpha);
        System.out.printf("%-28s %10s %10s %10s %8s%n", "corpus", "teacher", "CE only", "KD+CE", "KD gain");
        for (String corpus : corpora) {
            List<String> texts = read(Path.of(corpus.trim()));
            List<String> train = new ArrayList<>();
            List<String> heldOut = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                (i % 20 == 19 ? heldOut : train).add(texts.get(i));
            }
            int[] trainStream = LmWindows.stream(train);
            int[][] eval = LmWindows.consecutive(LmWindows.stream(heldOut), context, 128);
            LmTrainer ce = new LmTrainer(EncoderParams.random(studentSpec, 7), LmTrainer.Settings.defaults(3e-3f), gemm);
            LmTrainer kd = new LmTrainer(EncoderParams.random(studentSpec, 7), LmTrainer.Settings.defaults(3e-3f), gemm);
            long t0 = System.nanoTime();
            List<Map<String, Object>> curve = new ArrayList<>();
            for (int s = 0; s < steps; s++) {
                int[][] windows = LmWindows.random(trainStream, context, batch, 17L * s + 3);
                ce.train(windows, null, 0f);
                kd.train(windows, topK(teacher, windows, k), alpha);
                if ((s + 1) % Math.max(1, steps / 6) == 0 && s + 1 < steps) {
                    Map<String, Object> point = new LinkedHashMap<>();
                    point.put("steps", s + 1);
                    point.put("bytes_seen", (long) (s + 1) * batch * context);
                    point.put("ce_only_perplexity", ce.model().perplexity(eval));
                    point.put("kd_perplexity", kd.model().perplexity(eval));
                    curve.add(point);
                    System.out.printf("  %-26s step %5d: CE only %.2f, KD+CE %.2f%n", Path.of(corpus).getFileName(), s + 1,
                            point.get("ce_only_perplexity"), point.get("kd_perplexity"));
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double pt = teacher.perplexity(eval);
            double pce = ce.model().perplexity(eval);
            double pkd = kd.model().perplexity(eval);
            System.out.printf("%-28s %10.2f %10.2f %10.2f %7.1f%%   (%d steps each, %.0f s)%n", Path.of(corpus).getFileName(), pt, pce, pkd,
                    100 * (1 - pkd / pce), steps, seconds);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("held_out_windows", eval.length);
            r.put("teacher_perplexity", pt);
            r.put("ce_only_perplexity", pce);
            r.put("kd_perplexity", pkd);
            r.put("kd_gain", 1 - pkd / pce);
            r.put("seconds", seconds);
            r.put("curve", curve);
            results.put(Path.of(corpus).getFileName().toString(), r);
        }
        Path out = Files.isDirectory(Path.of("student-model")) ? Path.of("student-model/target/benchmarks") : Path.of("target/benchmarks");
        Files.createDirectories(out);
        Files.writeString(out.resolve("lm-distill.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(results));
    }

    /** The teacher's top-k next-token logits and full log-sum-exp at every position, as the soft-target record carries them. */
    static CausalLm.TopK[] topK(CausalLm teacher, int[][] windows, int k) {
        CausalLm.TopK[] out = new CausalLm.TopK[windows.length];
        for (int s = 0; s < windows.length; s++) {
            out[s] = CausalLm.TopK.of(teacher.logits(new int[][] {windows[s]}), 0, windows[s].length, teacher.spec().vocab(), k);
        }
        return out;
    }

    /** A file's texts: a line each, or a CSV's first column (quoted fields may hold commas, quotes and line breaks). */
    static List<String> read(Path file) throws Exception {
        String content = Files.readString(file, StandardCharsets.UTF_8);
        List<String> texts = new ArrayList<>();
        if (!file.toString().endsWith(".csv")) {
            content.lines().filter(l -> !l.isBlank()).forEach(l -> texts.add(l.strip()));
            return texts;
        }
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean header = true;
        for (int i = 0; i < content.length(); i++) {
            char c = content.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < content.length() && content.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
            } else if (c == '\n') {
                row.add(field.toString());
                field.setLength(0);
                if (!header && !row.get(0).isBlank()) {
                    texts.add(row.get(0).strip());
                }
                header = false;
                row.clear();
            } else if (c != '\r') {
                field.append(c);
            }
        }
        return texts;
    }

    private LmDistillBenchmark() {
    }
}
