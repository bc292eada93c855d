package io.streamdistill.teacher.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Learner;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.StaticDistillation;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import java.awt.BasicStroke;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Cascade serving across corpora: the default student, distilled on {@code bench.records} (3,000) records,
 * answers where its confidence clears a threshold and the teacher answers the rest. The threshold for each
 * share of teacher calls is calibrated on one half of a corpus's held-out texts and applied to the other
 * half, so the agreement reported is what an unseen text gets. Cost per 1,000 texts: the student on every
 * text plus the teacher on the share sent to it, both ONNX Runtime on one thread at batch 32, measured here.
 *
 * <pre>mvn -DskipTests install && mvn -pl teacher-service exec:java@cascade-benchmark</pre>
 * Writes {@code target/benchmarks/cascade.json} and {@code cascade.png} (agreement against teacher-call share).
 */
public final class CascadeBenchmark {
    static final String STUDENT = "warm fitted d128 lr.01";
    static final double[] SHARES = {0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50, 0.60, 0.80, 1.0};

    /** -Dbench.signal=margin: rank texts by the gap between the two most probable classes instead of the top probability. */
    static final boolean MARGIN = "margin".equals(System.getProperty("bench.signal", "top"));

    static float secondLargest(float[] p, int best) {
        float second = 0;
        for (int k = 0; k < p.length; k++) {
            if (k != best) {
                second = Math.max(second, p[k]);
            }
        }
        return second;
    }

    record Point(double nominalShare, double threshold, double teacherShare, double agreement, double msPer1000) {
    }

    public static void main(String[] args) throws Exception {
        int records = Integer.getInteger("bench.records", 3000);
        Map<String, List<String[]>> sources = QualityBenchmark.sources();
        String wanted = System.getProperty("bench.corpora", "");
        if (!wanted.isBlank()) {
            sources.keySet().retainAll(Arrays.asList(wanted.split(",")));
        }
        Path out = SamplingBenchmark.outputDir();
        TeacherDescriptor base = BuiltInTeachers.ALL_MINILM_L6_V2.descriptor();
        QualityBenchmark.Variant variant = QualityBenchmark.variants("classification").stream().filter(v -> v.name().equals(STUDENT))
                .findFirst().orElseThrow();
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("date", Instant.now().toString());
        results.put("student", STUDENT);
        results.put("records", records);
        Map<String, Object> corpora = new LinkedHashMap<>();
        results.put("corpora", corpora);
        XYSeriesCollection chart = new XYSeriesCollection();
        try (Teacher encoder = Teacher.load(base, 2, Teacher.Device.CPU, 0);
             Teacher oneThread = Teacher.load(base, 1, Teacher.Device.CPU, 0);
             TextTokenizer studentTok = StudentTokenizers.load("all-MiniLM-L6-v2", 128)) {
            QualityBenchmark.encoder = encoder;
            QualityBenchmark.cacheDir = out.resolve("static");
            Map<Integer, io.streamdistill.student.init.StaticTable> tables = Map.of(variant.dim(), StaticDistillation.cached(encoder,
                    variant.dim(), null, out.resolve("static"), StaticDistillation.printer(System.out)).table());
            System.out.printf("%-26s %6s %9s %8s %9s %12s %9s%n", "corpus", "share", "threshold", "to teach", "agreement", "ms/1000 texts",
                    "vs teacher");
            for (Map.Entry<String, List<String[]>> src : sources.entrySet()) {
                QualityBenchmark.Corpus c = QualityBenchmark.prepare(src.getKey(), src.getValue(), encoder, studentTok, out);
                if (c.classes().size() < 2) {
                    continue;
                }
                Learner student = QualityBenchmark.learner(c, true, variant, tables);
                List<QualityBenchmark.Item> stream = new ArrayList<>(c.stream());
                Collections.shuffle(stream, new Random(100));
                List<Example> batch = new ArrayList<>();
                for (int i = 0; i < records; i++) {
                    QualityBenchmark.Item it = stream.get(i % stream.size());
                    batch.add(new Example(it.ids(), it.logits(), it.label()));
                    if (batch.size() == 32 || i == records - 1) {
                        student.train(batch);
                        batch.clear();
                    }
                }
                float[][] p = QualityBenchmark.predictAll(student, c.eval());
                int n = c.eval().size();
                float[] confidence = new float[n];
                boolean[] agrees = new boolean[n];
                for (int i = 0; i < n; i++) {
                    int s = DistillationLoss.argmax(p[i]);
                    confidence[i] = MARGIN ? p[i][s] - secondLargest(p[i], s) : p[i][s];
                    agrees[i] = s == DistillationLoss.argmax(c.eval().get(i).logits());
                }
                // Calibrate on one half, measure on the other.
                List<Integer> idx = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    idx.add(i);
                }
                Collections.shuffle(idx, new Random(5));
                List<Integer> calibrate = idx.subList(0, n / 2);
                List<Integer> test = idx.subList(n / 2, n);
                float[] calibrationConfidence = new float[calibrate.size()];
                for (int i = 0; i < calibrate.size(); i++) {
                    calibrationConfidence[i] = confidence[calibrate.get(i)];
                }
                Arrays.sort(calibrationConfidence);
                double[] ms = costs(student, oneThread, studentTok, evalTexts(src.getValue()));
                XYSeries series = new XYSeries(c.name());
                List<Point> curve = new ArrayList<>();
                for (double share : SHARES) {
                    int k = (int) Math.floor(share * calibrate.size() + 1e-9);
                    double threshold = k >= calibrate.size() ? Double.POSITIVE_INFINITY : k == 0 ? 0 : calibrationConfidence[k];
                    int toTeacher = 0;
                    int agreed = 0;
                    for (int i : test) {
                        if (confidence[i] < threshold) {
                            toTeacher++;
                            agreed++;
                        } else if (agrees[i]) {
                            agreed++;
                        }
                    }
                    double realized = toTeacher / (double) test.size();
                    Point pt = new Point(share, threshold, realized, agreed / (double) test.size(), 1000 * (ms[0] + realized * ms[1]));
                    curve.add(pt);
                    series.add(realized, pt.agreement());
                    System.out.printf("%-26s %5.0f%% %9.4f %7.1f%% %9.4f %12.0f %8.0f%%%n", c.name(), 100 * share, threshold, 100 * realized,
                            pt.agreement(), pt.msPer1000(), 100 * pt.msPer1000() / (1000 * ms[1]));
                }
                chart.addSeries(series);
                Map<String, Object> facts = new LinkedHashMap<>();
                facts.put("classes", c.classes().size());
                facts.put("calibration_texts", calibrate.size());
                facts.put("test_texts", test.size());
                facts.put("student_ms_per_text", ms[0]);
                facts.put("teacher_ms_per_text", ms[1]);
                facts.put("curve", curve);
                corpora.put(c.name(), facts);
                System.out.printf("%-26s student %.3f ms/text, teacher %.3f ms/text (ORT, 1 thread, batch 32)%n", c.name(), ms[0], ms[1]);
                Files.writeString(out.resolve("cascade.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(results));
                plot(chart, out.resolve("cascade.png"));
            }
        }
        System.out.println("wrote " + out.resolve("cascade.json") + " and " + out.resolve("cascade.png"));
    }

    /** The corpus's held-out texts as QualityBenchmark.prepare chooses them (the same shuffle and split). */
    static List<String> evalTexts(List<String[]> rows) {
        List<String[]> shuffled = new ArrayList<>(rows);
        Collections.shuffle(shuffled, new Random(7));
        int evalSize = Math.min(QualityBenchmark.MAX_EVAL, shuffled.size() / 5);
        return shuffled.subList(shuffled.size() - evalSize, shuffled.size()).stream().map(r -> r[0]).toList();
    }

    /** Milliseconds per text of the student's ONNX file and of the teacher, ONNX Runtime on one thread, batches of 32. */
    static double[] costs(Learner student, Teacher teacher, TextTokenizer studentTok, List<String> texts) {
        List<String> sample = texts.subList(0, Math.min(320, texts.size()));
        byte[] onnx = student.exportOnnx(new OnnxExporter.Metadata(studentTok.id(), 1));
        try (StudentRunner runner = StudentRunner.fromBytes(onnx, Hashing.sha256(onnx), studentTok, 1)) {
            double studentMs = time(() -> {
                for (int i = 0; i < sample.size(); i += 32) {
                    runner.score(sample.subList(i, Math.min(sample.size(), i + 32)));
                }
            }) / sample.size();
            int[][] teacherIds = teacher.tokenizer().encode(sample);
            double teacherMs = time(() -> {
                for (int i = 0; i < teacherIds.length; i += 32) {
                    teacher.infer(Arrays.copyOfRange(teacherIds, i, Math.min(teacherIds.length, i + 32)));
                }
            }) / sample.size();
            return new double[] {studentMs, teacherMs};
        }
    }

    /** The best of three runs after one warm-up, in milliseconds. */
    static double time(Runnable r) {
        r.run();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        return best;
    }

    static void plot(XYSeriesCollection data, Path png) throws java.io.IOException {
        JFreeChart chart = ChartFactory.createXYLineChart("Cascade: agreement with the teacher against teacher calls",
                "share of texts answered by the teacher", "agreement with the teacher (held-out half)", data, PlotOrientation.VERTICAL,
                true, false, false);
        XYPlot plot = chart.getXYPlot();
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        for (int s = 0; s < data.getSeriesCount(); s++) {
            plot.getRenderer().setSeriesStroke(s, new BasicStroke(2f));
        }
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 560);
    }

    private CascadeBenchmark() {
    }
}
