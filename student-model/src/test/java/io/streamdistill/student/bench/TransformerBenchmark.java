package io.streamdistill.student.bench;

import io.streamdistill.student.Hashing;
import io.streamdistill.student.math.Kernels;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.MiniLmFiles;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.Rng;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import io.streamdistill.student.transformer.BertOnnxWeights;
import io.streamdistill.student.transformer.EncoderParams;
import io.streamdistill.student.transformer.EncoderSpec;
import io.streamdistill.student.transformer.TransformerStudent;
import io.streamdistill.student.transformer.TransformerTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What each student costs against the MiniLM teacher, on one thread: training records/s in Java, inference
 * texts/s in ONNX Runtime at batch 1 and 32, parameters, file and state sizes. The cost side of the frontier
 * (docs/benchmarks.md, "Contextual students"). {@code mvn -pl student-model exec:exec@transformer-benchmark}.
 */
public final class TransformerBenchmark {

    record Row(String name, long parameters, double onnxMb, double stateMb, double trainPerS, double batch1PerS, double batch32PerS) {
    }

    public static void main(String[] args) throws Exception {
        TextTokenizer tokenizer = TextTokenizer.load(MiniLmFiles.tokenizer(), "all-MiniLM-L6-v2", 128);
        int[][] ids = tokenizer.encode(SyntheticText.sentences(MiniLmFiles.tokenizer(), 1024, 22, 1));
        List<String> classes = List.of("a", "b", "c", "d");
        BertOnnxWeights teacherWeights = BertOnnxWeights.read(MiniLmFiles.model());
        Map<String, Learner> students = new LinkedHashMap<>();
        students.put("bag d=128 (today's default)", StudentTrainer.create(StudentConfig.builder().task(Task.CLASSIFICATION)
                .vocabSize(tokenizer.vocabSize()).embeddingDim(128).classNames(classes).build(), TrainingConfig.defaults()));
        students.put("transformer 2x128 random (4 heads, ffn 512)", transformer(EncoderParams.random(new EncoderSpec(tokenizer.vocabSize(),
                128, 2, 4, 512, 128, 0, 1e-12f, EncoderSpec.Pooling.MEAN), 1), classes));
        students.put("transformer 4x256 random (4 heads, ffn 1024)", transformer(EncoderParams.random(new EncoderSpec(tokenizer.vocabSize(),
                256, 4, 4, 1024, 128, 0, 1e-12f, EncoderSpec.Pooling.MEAN), 1), classes));
        students.put("teacher block 5 (1x384)", transformer(teacherWeights.take(EncoderSpec.Pooling.MEAN, 5), classes));
        students.put("teacher blocks 3,5 (2x384)", transformer(teacherWeights.take(EncoderSpec.Pooling.MEAN, 3, 5), classes));
        students.put("teacher blocks 1,3,5 (3x384)", transformer(teacherWeights.take(EncoderSpec.Pooling.MEAN, 1, 3, 5), classes));

        double teacher1;
        double teacher32;
        try (StudentBenchmark.TeacherSession teacher = new StudentBenchmark.TeacherSession(MiniLmFiles.model())) {
            teacher1 = StudentBenchmark.throughput(1, b -> teacher.run(StudentBenchmark.slice(ids, b, 1)));
            teacher32 = StudentBenchmark.throughput(32, b -> teacher.run(StudentBenchmark.slice(ids, b, 32)));
        }
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, Learner> e : students.entrySet()) {
            Learner learner = e.getValue();
            byte[] onnx = learner.exportOnnx(new OnnxExporter.Metadata(tokenizer.id(), 0));
            double b1;
            double b32;
            try (StudentRunner runner = StudentRunner.fromBytes(onnx, Hashing.sha256(onnx), tokenizer, 1)) {
                b1 = StudentBenchmark.throughput(1, b -> runner.scoreIds(StudentBenchmark.slice(ids, b, 1)).length);
                b32 = StudentBenchmark.throughput(32, b -> runner.scoreIds(StudentBenchmark.slice(ids, b, 32)).length);
            }
            double train = trainThroughput(learner, ids);
            Row row = new Row(e.getKey(), learner.parameterCount(), onnx.length / 1e6, learner.toBytes().length / 1e6, train, b1, b32);
            rows.add(row);
            System.out.printf("measured %s%n", row);
        }

        Map<String, Object> results = new LinkedHashMap<>();
        results.put("date", Instant.now().toString());
        results.put("machine", StudentBenchmark.machine());
        results.put("gemm", Kernels.gemm().name());
        results.put("teacher_texts_per_s_batch1", teacher1);
        results.put("teacher_texts_per_s_batch32", teacher32);
        results.put("students", rows);
        System.out.printf("%nStudents against the MiniLM-L6 teacher — %s, %s, gemm %s, 1 thread%n", results.get("date"),
                results.get("machine"), results.get("gemm"));
        System.out.printf("teacher in ONNX Runtime: %.0f texts/s at batch 1, %.0f at batch 32%n%n", teacher1, teacher32);
        System.out.println("| student | parameters | ONNX MB | state MB | training records/s | ORT texts/s b1 (× teacher) | ORT texts/s b32 (× teacher) |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (Row r : rows) {
            System.out.printf("| %s | %,d | %.1f | %.1f | %.0f | %.0f (%.1f×) | %.0f (%.1f×) |%n", r.name(), r.parameters(), r.onnxMb(),
                    r.stateMb(), r.trainPerS(), r.batch1PerS(), r.batch1PerS() / teacher1, r.batch32PerS(), r.batch32PerS() / teacher32);
        }
        Path out = Path.of("target", "benchmarks", "transformer.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(results));
        System.out.println("\nwrote " + out.toAbsolutePath());
    }

    private static Learner transformer(EncoderParams encoder, List<String> classes) {
        return new TransformerTrainer(new TransformerStudent(Task.CLASSIFICATION, classes, classes.size(), encoder).initHead(2),
                TrainingConfig.defaults(), Kernels.gemm());
    }

    private static double trainThroughput(Learner learner, int[][] ids) {
        Rng rng = new Rng(2);
        List<Example> examples = new ArrayList<>(ids.length);
        for (int[] row : ids) {
            float[] teacher = new float[4];
            for (int k = 0; k < 4; k++) {
                teacher[k] = (float) rng.nextGaussian();
            }
            examples.add(Example.unlabelled(row, teacher));
        }
        int batches = examples.size() / 32;
        return StudentBenchmark.throughput(32, b -> {
            int from = (b % batches) * 32;
            learner.train(examples.subList(from, from + 32));
            return 32;
        });
    }
}
