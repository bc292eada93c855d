package io.streamdistill.teacher.bench;

import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.FineTuner;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.StaticDistillation;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.student.init.StaticTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Fine-tuning across corpora, as {@code streamdistill finetune} does it: a student distilled like the
 * demo's (warm start, D=128, 3,000 stream records) is fine-tuned on the labelled held-out rows of its
 * corpus (80% to train, 20% to test, split per class), for several KD weights A and learning rates,
 * with the scores after every epoch: test accuracy against the teacher's on the same rows, and
 * agreement with the teacher on stream rows never trained on. Same corpora and cached embeddings as
 * {@link QualityBenchmark}; the teacher is its prototype head.
 *
 * <pre>mvn -pl teacher-service exec:java@finetune-benchmark</pre>
 * System properties: {@code bench.corpora}, {@code bench.orders} (2), {@code bench.epochs} (8).
 * Writes {@code target/benchmarks/finetune.json}.
 */
public final class FinetuneBenchmark {
    static final float[] KEEP_TEACHER = {0f, 0.3f, 0.6f};
    static final float[] RATES = {0.001f, 0.003f, 0.01f};
    static final int STREAM_RECORDS = 3000;
    static final int HOLDOUT = 300;

    public static void main(String[] args) throws Exception {
        int orders = Integer.getInteger("bench.orders", 2);
        int epochs = Integer.getInteger("bench.epochs", 8);
        Path out = SamplingBenchmark.outputDir();
        Map<String, List<String[]>> sources = QualityBenchmark.sources();
        String wanted = System.getProperty("bench.corpora", "");
        if (!wanted.isBlank()) {
            sources.keySet().retainAll(List.of(wanted.split(",")));
        }
        List<Map<String, Object>> results = new ArrayList<>();
        try (Teacher encoder = Teacher.load(BuiltInTeachers.ALL_MINILM_L6_V2.descriptor(), 2, Teacher.Device.CPU, 0);
             TextTokenizer studentTok = StudentTokenizers.load("all-MiniLM-L6-v2", 128)) {
            StaticTable table = StaticDistillation.cached(encoder, 128, null, out.resolve("static"), StaticDistillation.printer(System.out))
                    .table();
            Map<Integer, StaticTable> tables = Map.of(128, table);
            QualityBenchmark.Variant demo = new QualityBenchmark.Variant("warm basis d128 lr.01", "basis", 128, 0.01f, 2f, 0.7f, 0f);
            for (Map.Entry<String, List<String[]>> src : sources.entrySet()) {
                QualityBenchmark.Corpus c = QualityBenchmark.prepare(src.getKey(), src.getValue(), encoder, studentTok, out);
                int k = c.classes().size();
                // The labelled dataset: the corpus's labelled eval rows, split per class 80/20 by position.
                Map<Integer, List<QualityBenchmark.Item>> byClass = new TreeMap<>();
                c.eval().stream().filter(it -> it.label() >= 0).forEach(it -> byClass.computeIfAbsent(it.label(), l -> new ArrayList<>()).add(it));
                List<FineTuner.Labelled> train = new ArrayList<>();
                List<FineTuner.Labelled> test = new ArrayList<>();
                List<QualityBenchmark.Item> testItems = new ArrayList<>();
                byClass.values().forEach(items -> {
                    int n = Math.max(1, (int) Math.round(0.2 * items.size()));
                    for (int i = 0; i < items.size(); i++) {
                        FineTuner.Labelled l = new FineTuner.Labelled(items.get(i).ids(), items.get(i).label());
                        if (i < n) {
                            test.add(l);
                            testItems.add(items.get(i));
                        } else {
                            train.add(l);
                        }
                    }
                });
                double teacherAccuracy = 0;
                for (QualityBenchmark.Item it : testItems) {
                    teacherAccuracy += DistillationLoss.argmax(it.logits()) == it.label() ? 1 : 0;
                }
                teacherAccuracy /= testItems.size();
                System.out.printf("%n== %s: %d classes, %d labelled rows to fine-tune on, %d to test; teacher test accuracy %.3f%n", c.name(),
                        k, train.size(), test.size(), teacherAccuracy);
                Map<String, double[][]> curves = new LinkedHashMap<>();
                for (int o = 0; o < orders; o++) {
                    List<QualityBenchmark.Item> stream = new ArrayList<>(c.stream());
                    Collections.shuffle(stream, new Random(100 + o));
                    List<QualityBenchmark.Item> holdoutItems = stream.subList(stream.size() - HOLDOUT, stream.size());
                    List<QualityBenchmark.Item> trainStream = stream.subList(0, stream.size() - HOLDOUT);
                    StudentTrainer distilled = QualityBenchmark.create(c, true, demo, tables);
                    List<Example> batch = new ArrayList<>();
                    List<Example> replay = new ArrayList<>();
                    for (int i = 0; i < STREAM_RECORDS; i++) {
                        QualityBenchmark.Item it = trainStream.get(i % trainStream.size());
                        Example e = new Example(it.ids(), it.logits(), it.label());
                        if (i < trainStream.size()) {
                            replay.add(e);
                        }
                        batch.add(e);
                        if (batch.size() == 32) {
                            distilled.train(batch);
                            batch.clear();
                        }
                    }
                    if (!batch.isEmpty()) {
                        distilled.train(batch);
                    }
                    List<Example> holdout = holdoutItems.stream().map(it -> Example.unlabelled(it.ids(), it.logits())).toList();
                    for (float a : KEEP_TEACHER) {
                        for (float lr : RATES) {
                            String name = String.format("A=%.1f lr=%s", a, lr);
                            FineTuner.Result r = FineTuner.run(StudentTrainer.create(distilled.student(), distilled.training()), train, test, replay,
                                    holdout, new FineTuner.Settings(epochs, 32, a, TrainingConfig.builder().learningRate(lr).build(), 7 + o),
                                    line -> { });
                            double[][] curve = curves.computeIfAbsent(name, x -> new double[epochs + 1][3]);
                            for (FineTuner.Epoch e : r.curve()) {
                                curve[e.epoch()][0] += e.accuracy() / orders;
                                curve[e.epoch()][1] += e.macroF1() / orders;
                                curve[e.epoch()][2] += e.agreement() / orders;
                            }
                        }
                    }
                }
                for (Map.Entry<String, double[][]> e : curves.entrySet()) {
                    double[][] cv = e.getValue();
                    StringBuilder line = new StringBuilder(String.format("%-24s %-16s", c.name(), e.getKey()));
                    for (int ep = 0; ep < cv.length; ep++) {
                        if (ep == 0 || ep == 1 || ep == 2 || ep == 4 || ep == cv.length - 1) {
                            line.append(String.format(" | ep%d acc %.3f agr %.3f", ep, cv[ep][0], cv[ep][2]));
                        }
                    }
                    System.out.println(line);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("corpus", c.name());
                    row.put("variant", e.getKey());
                    row.put("classes", k);
                    row.put("train_rows", train.size());
                    row.put("test_rows", test.size());
                    row.put("teacher_accuracy", teacherAccuracy);
                    List<Map<String, Double>> points = new ArrayList<>();
                    for (double[] p : cv) {
                        points.add(Map.of("accuracy", p[0], "macro_f1", p[1], "agreement", p[2]));
                    }
                    row.put("curve", points);
                    results.add(row);
                }
            }
        }
        Files.writeString(out.resolve("finetune.json"), new com.fasterxml.jackson.databind.ObjectMapper()
                .writerWithDefaultPrettyPrinter().writeValueAsString(results));
        System.out.println("wrote " + out.resolve("finetune.json"));
    }

    private FinetuneBenchmark() {
    }
}
