package io.streamdistill.student.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.loss.EmbeddingLoss;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.MiniLmFiles;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Rng;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The student-model benchmark: training examples/s per thread for each head (batch 32, ~24
 * tokens), and ONNX inference of the student vs the all-MiniLM-L6-v2 teacher at batch 1 and 32,
 * all on one thread and in one run, so the ratios compare like with like. Prints a table and
 * writes JSON to {@code target/benchmarks/student-model.json}.
 *
 * <pre>mvn -pl student-model -am -DskipTests install && mvn -pl student-model exec:java@benchmark</pre>
 */
public final class StudentBenchmark {
    private static final double SECONDS_PER_MEASUREMENT = Double.parseDouble(System.getProperty("bench.seconds", "4"));

    public static void main(String[] args) throws Exception {
        TextTokenizer tokenizer = TextTokenizer.load(MiniLmFiles.tokenizer(), "all-MiniLM-L6-v2", 128);
        List<String> texts = SyntheticText.sentences(MiniLmFiles.tokenizer(), 2048, 22, 1);
        int[][] ids = tokenizer.encode(texts);
        double meanTokens = 0;
        for (int[] row : ids) {
            meanTokens += row.length;
        }
        meanTokens /= ids.length;
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("date", Instant.now().toString());
        results.put("machine", machine());
        results.put("mean_tokens_per_text", meanTokens);
        results.put("threads", 1);

        StudentConfig classification = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(tokenizer.vocabSize())
                .embeddingDim(64).bigramBuckets(1 << 16).classNames(List.of("a", "b", "c", "d")).build();
        // Token embeddings only, like Model2Vec's static students.
        StudentConfig embedding = StudentConfig.builder().task(Task.EMBEDDING).vocabSize(tokenizer.vocabSize())
                .embeddingDim(64).outputDim(384).build();
        StudentConfig embeddingWide = StudentConfig.builder().task(Task.EMBEDDING).vocabSize(tokenizer.vocabSize())
                .embeddingDim(128).bigramBuckets(1 << 16).outputDim(384).build();

        // The warm-started defaults (issue 15): D=128 token rows only; their speed does not depend on the initial values.
        StudentConfig warmClassification = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(tokenizer.vocabSize())
                .embeddingDim(128).classNames(List.of("a", "b", "c", "d")).build();
        StudentConfig warmEmbedding = StudentConfig.builder().task(Task.EMBEDDING).vocabSize(tokenizer.vocabSize())
                .embeddingDim(128).outputDim(384).build();

        Map<String, Double> train = new LinkedHashMap<>();
        train.put("classification d=128 (warm-start default), 4 classes, KL+CE", trainThroughput(warmClassification, ids, 4));
        train.put("embedding d=128 (warm-start default), 384-d out, cosine", trainThroughput(warmEmbedding, ids, 384));
        train.put("classification d=64 +64k bigrams, 4 classes, KL+CE", trainThroughput(classification, ids, 4));
        train.put("embedding d=64, 384-d out, cosine", trainThroughput(embedding, ids, 384));
        train.put("embedding d=128 +64k bigrams, 384-d out, cosine", trainThroughput(embeddingWide, ids, 384));
        results.put("train_examples_per_s", train);

        Map<String, Double> inference = new LinkedHashMap<>();
        try (TeacherSession teacher = new TeacherSession(MiniLmFiles.model());
             StudentRunner student = exported(classification, tokenizer);
             StudentRunner studentEmb = exported(embedding, tokenizer);
             StudentRunner warmStudent = exported(warmClassification, tokenizer);
             StudentRunner warmStudentEmb = exported(warmEmbedding, tokenizer)) {
            StudentTrainer javaClassifier = StudentTrainer.create(classification, TrainingConfig.defaults());
            StudentTrainer javaEmbedding = StudentTrainer.create(embedding, TrainingConfig.defaults());
            for (int batch : new int[] {1, 32}) {
                inference.put("teacher all-MiniLM-L6-v2, batch " + batch, throughput(batch, b -> teacher.run(slice(ids, b, batch))));
                inference.put("student classification, batch " + batch, throughput(batch, b -> student.scoreIds(slice(ids, b, batch)).length));
                inference.put("student embedding, batch " + batch, throughput(batch, b -> studentEmb.scoreIds(slice(ids, b, batch)).length));
                inference.put("student classification d=128 (default), batch " + batch,
                        throughput(batch, b -> warmStudent.scoreIds(slice(ids, b, batch)).length));
                inference.put("student embedding d=128 (default), batch " + batch,
                        throughput(batch, b -> warmStudentEmb.scoreIds(slice(ids, b, batch)).length));
                // The same model in the Java forward pass (equal to the ONNX output within 1e-5, see OnnxExportTest):
                // no per-call ONNX Runtime overhead, which dominates at batch 1.
                inference.put("student classification, Java forward, batch " + batch,
                        throughput(batch, b -> predictAll(javaClassifier, slice(ids, b, batch))));
                inference.put("student embedding, Java forward, batch " + batch,
                        throughput(batch, b -> predictAll(javaEmbedding, slice(ids, b, batch))));
            }
        }
        results.put("inference_texts_per_s", inference);

        double teacher32 = inference.get("teacher all-MiniLM-L6-v2, batch 32");
        Map<String, Double> ratios = new LinkedHashMap<>();
        for (var e : train.entrySet()) {
            ratios.put("train " + e.getKey() + " / teacher inference (batch 32)", e.getValue() / teacher32);
        }
        for (int batch : new int[] {1, 32}) {
            double t = inference.get("teacher all-MiniLM-L6-v2, batch " + batch);
            ratios.put("student classification / teacher, batch " + batch, inference.get("student classification, batch " + batch) / t);
            ratios.put("student classification d=128 (default) / teacher, batch " + batch,
                    inference.get("student classification d=128 (default), batch " + batch) / t);
            ratios.put("student embedding d=128 (default) / teacher, batch " + batch,
                    inference.get("student embedding d=128 (default), batch " + batch) / t);
            ratios.put("student embedding / teacher, batch " + batch, inference.get("student embedding, batch " + batch) / t);
            ratios.put("student classification, Java forward / teacher, batch " + batch,
                    inference.get("student classification, Java forward, batch " + batch) / t);
            ratios.put("student embedding, Java forward / teacher, batch " + batch,
                    inference.get("student embedding, Java forward, batch " + batch) / t);
        }
        results.put("ratios", ratios);
        // What D costs in Flink state: the trainer's bytes (parameters and both Adam moments) and the time to write them.
        Map<String, Double> state = new LinkedHashMap<>();
        for (int d : new int[] {64, 128, 256}) {
            StudentTrainer t = StudentTrainer.create(StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(tokenizer.vocabSize())
                    .embeddingDim(d).classNames(List.of("a", "b", "c", "d")).build(), TrainingConfig.defaults());
            byte[] bytes = t.toBytes();
            long t0 = System.nanoTime();
            for (int i = 0; i < 5; i++) {
                bytes = t.toBytes();
            }
            state.put("d=" + d + " state MB", bytes.length / 1e6);
            state.put("d=" + d + " toBytes ms", (System.nanoTime() - t0) / 5e6);
        }
        results.put("trainer_state", state);
        state.forEach((k, v) -> System.out.printf("trainer state %s: %.1f%n", k, v));

        printTable(results, train, inference, ratios);
        Path out = Path.of("target", "benchmarks", "student-model.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                .writeValueAsString(results));
        System.out.println("\nwrote " + out.toAbsolutePath());
    }

    private static double trainThroughput(StudentConfig config, int[][] ids, int teacherDim) {
        Rng rng = new Rng(2);
        List<Example> examples = new ArrayList<>(ids.length);
        for (int[] row : ids) {
            float[] teacher = new float[teacherDim];
            for (int k = 0; k < teacherDim; k++) {
                teacher[k] = (float) rng.nextGaussian();
            }
            examples.add(new Example(row, teacher, config.task() == Task.CLASSIFICATION ? (int) (rng.nextDouble() * 4) : -1));
        }
        StudentTrainer trainer = StudentTrainer.create(config,
                TrainingConfig.builder().embeddingLoss(EmbeddingLoss.COSINE).build());
        int batches = examples.size() / 32;
        return throughput(32, b -> {
            int from = (b % batches) * 32;
            trainer.train(examples.subList(from, from + 32));
            return 32;
        });
    }

    private static int predictAll(StudentTrainer trainer, int[][] ids) {
        for (int[] row : ids) {
            trainer.predict(row);
        }
        return ids.length;
    }

    interface Work {
        int run(int iteration) throws Exception;
    }

    /** Items per second: one second of warm-up, then as many iterations as fit in the measurement window. */
    static double throughput(int batch, Work work) {
        try {
            long warm = System.nanoTime() + 1_000_000_000L;
            int i = 0;
            while (System.nanoTime() < warm) {
                work.run(i++);
            }
            long items = 0;
            long start = System.nanoTime();
            long end = start + (long) (SECONDS_PER_MEASUREMENT * 1e9);
            while (System.nanoTime() < end) {
                items += work.run(i++);
            }
            return items / ((System.nanoTime() - start) / 1e9);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static int[][] slice(int[][] ids, int iteration, int batch) {
        int batches = ids.length / batch;
        int from = (iteration % batches) * batch;
        int[][] out = new int[batch][];
        System.arraycopy(ids, from, out, 0, batch);
        return out;
    }

    private static StudentRunner exported(StudentConfig config, TextTokenizer tokenizer) {
        byte[] model = OnnxExporter.export(StudentTrainer.create(config, TrainingConfig.defaults()).student(),
                new OnnxExporter.Metadata(tokenizer.id(), 0));
        return StudentRunner.fromBytes(model, Hashing.sha256(model), tokenizer, 1);
    }

    /** The MiniLM teacher run directly in ONNX Runtime, with mean pooling: what the teacher service does per batch. */
    static final class TeacherSession implements AutoCloseable {
        private final OrtEnvironment env = OrtEnvironment.getEnvironment();
        private final OrtSession session;

        TeacherSession(Path model) throws OrtException {
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            options.setIntraOpNumThreads(1);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            session = env.createSession(model.toString(), options);
        }

        int run(int[][] ids) throws OrtException {
            TextTokenizer.PaddedBatch batch = TextTokenizer.pad(ids, 0);
            try (OnnxTensor in = OnnxTensor.createTensor(env, batch.inputIds(), batch.shape());
                 OnnxTensor mask = OnnxTensor.createTensor(env, batch.attentionMask(), batch.shape());
                 OnnxTensor tt = OnnxTensor.createTensor(env, batch.zeros(), batch.shape());
                 OrtSession.Result r = session.run(Map.of("input_ids", in, "attention_mask", mask, "token_type_ids", tt))) {
                float[][][] hidden = (float[][][]) r.get(0).getValue();
                float[][] pooled = new float[ids.length][hidden[0][0].length];
                for (int b = 0; b < ids.length; b++) {
                    for (int t = 0; t < ids[b].length; t++) {
                        for (int j = 0; j < pooled[b].length; j++) {
                            pooled[b][j] += hidden[b][t][j] / ids[b].length;
                        }
                    }
                }
                return pooled.length;
            }
        }

        @Override
        public void close() throws OrtException {
            session.close();
        }
    }

    static String machine() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
        } catch (IOException ignored) {
            // Not Linux: keep "unknown CPU".
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java " + System.getProperty("java.version");
    }

    private static void printTable(Map<String, Object> results, Map<String, Double> train, Map<String, Double> inference,
                                   Map<String, Double> ratios) {
        System.out.printf("%nStreamDistill student-model benchmark — %s%n%s, %.1f tokens/text, 1 thread%n%n",
                results.get("date"), results.get("machine"), (double) results.get("mean_tokens_per_text"));
        System.out.printf("| %-56s | %14s |%n", "training (batch 32)", "examples/s");
        System.out.printf("|%s|%s|%n", "-".repeat(58), "-".repeat(16));
        train.forEach((k, v) -> System.out.printf("| %-56s | %,14.0f |%n", k, v));
        System.out.printf("%n| %-56s | %14s |%n", "ONNX Runtime inference", "texts/s");
        System.out.printf("|%s|%s|%n", "-".repeat(58), "-".repeat(16));
        inference.forEach((k, v) -> System.out.printf("| %-56s | %,14.0f |%n", k, v));
        System.out.printf("%n| %-72s | %9s |%n", "ratio", "x");
        System.out.printf("|%s|%s|%n", "-".repeat(82), "-".repeat(11));
        ratios.forEach((k, v) -> System.out.printf("| %-80s | %9.0f |%n", k, v));
    }
}
