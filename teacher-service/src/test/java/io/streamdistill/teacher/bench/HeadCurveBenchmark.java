package io.streamdistill.teacher.bench;

import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.HeadFitter;
import io.streamdistill.teacher.model.Teacher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How many labels a fitted head needs to beat prototypes: for n labelled rows per class (the first n
 * of each class in stream order), the logistic-regression head's cross-validated accuracy against the
 * prototype head's on the same folds, and both heads' accuracy on the corpus's held-out rows (the
 * prototypes there are the demo's: 16 stream rows per class). Same corpora and cached embeddings as
 * {@link QualityBenchmark}.
 *
 * <pre>mvn -pl teacher-service exec:java@head-curve-benchmark</pre>
 * Writes {@code target/benchmarks/head-curve.json}.
 */
public final class HeadCurveBenchmark {
    static final int[] PER_CLASS = {8, 16, 32, 64, 128, 256};

    public static void main(String[] args) throws Exception {
        Path out = SamplingBenchmark.outputDir();
        List<Map<String, Object>> results = new ArrayList<>();
        try (Teacher encoder = Teacher.load(BuiltInTeachers.ALL_MINILM_L6_V2.descriptor(), 2, Teacher.Device.CPU, 0);
             TextTokenizer studentTok = StudentTokenizers.load("all-MiniLM-L6-v2", 128)) {
            System.out.printf("%-26s %5s %6s | %8s %8s | %8s %8s | %6s%n", "corpus", "n/cls", "rows", "cv LR", "cv proto", "eval LR",
                    "eval pro", "fit s");
            for (Map.Entry<String, List<String[]>> src : QualityBenchmark.sources().entrySet()) {
                QualityBenchmark.Corpus c = QualityBenchmark.prepare(src.getKey(), src.getValue(), encoder, studentTok, out);
                int k = c.classes().size();
                for (int n : PER_CLASS) {
                    List<QualityBenchmark.Item> picked = new ArrayList<>();
                    int[] count = new int[k];
                    for (QualityBenchmark.Item it : c.stream()) {
                        if (it.label() >= 0 && count[it.label()] < n) {
                            count[it.label()]++;
                            picked.add(it);
                        }
                    }
                    int min = java.util.Arrays.stream(count).min().orElse(0);
                    if (min < n && n > PER_CLASS[0]) {
                        break; // the corpus has no more rows for its smallest class
                    }
                    float[][] x = picked.stream().map(QualityBenchmark.Item::embedding).toArray(float[][]::new);
                    int[] y = picked.stream().mapToInt(QualityBenchmark.Item::label).toArray();
                    List<String> keys = new ArrayList<>();
                    for (int i = 0; i < picked.size(); i++) {
                        keys.add(i + ":" + java.util.Arrays.hashCode(picked.get(i).ids()));
                    }
                    long t0 = System.nanoTime();
                    HeadFitter.Fitted f = HeadFitter.fit(x, y, c.classes(), keys, 5, 20f);
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    double evalLr = 0;
                    double evalProto = 0;
                    int labelled = 0;
                    for (QualityBenchmark.Item it : c.eval()) {
                        if (it.label() < 0) {
                            continue;
                        }
                        labelled++;
                        float[] z = new float[k];
                        for (int cl = 0; cl < k; cl++) {
                            double s = f.bias()[cl];
                            for (int j = 0; j < it.embedding().length; j++) {
                                s += f.weights()[cl][j] * it.embedding()[j];
                            }
                            z[cl] = (float) s;
                        }
                        evalLr += DistillationLoss.argmax(z) == it.label() ? 1 : 0;
                        evalProto += DistillationLoss.argmax(it.logits()) == it.label() ? 1 : 0;
                    }
                    HeadFitter.Report r = f.report();
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("corpus", c.name());
                    row.put("per_class", n);
                    row.put("rows", picked.size());
                    row.put("cv_accuracy", r.head().accuracy());
                    row.put("prototype_cv_accuracy", r.prototypes().accuracy());
                    row.put("eval_accuracy", evalLr / labelled);
                    row.put("prototype_eval_accuracy", evalProto / labelled);
                    row.put("fit_seconds", seconds);
                    results.add(row);
                    System.out.printf("%-26s %5d %6d | %8.3f %8.3f | %8.3f %8.3f | %6.1f%n", c.name(), n, picked.size(),
                            r.head().accuracy(), r.prototypes().accuracy(), evalLr / labelled, evalProto / labelled, seconds);
                }
            }
        }
        Files.writeString(out.resolve("head-curve.json"), new com.fasterxml.jackson.databind.ObjectMapper()
                .writerWithDefaultPrettyPrinter().writeValueAsString(results));
        System.out.println("wrote " + out.resolve("head-curve.json"));
    }

    private HeadCurveBenchmark() {
    }
}
