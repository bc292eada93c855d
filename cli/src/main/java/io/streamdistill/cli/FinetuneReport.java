package io.streamdistill.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.trainer.finetune.FineTunePublisher;
import io.streamdistill.student.train.FineTuner;
import io.streamdistill.trainer.finetune.StreamSample;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** What {@code finetune} leaves in its --out directory: report.md, the learning curve as PNG, finetune.json. */
record FinetuneReport(StudentCheckpoint parent, LabelledData data, FinetuneCommand.Split split, StreamSample stream,
                      TeacherScores teacher, FineTuner.Settings settings, FineTuner.Result result) {
    static final String CURVE = "learning_curve.png";

    /** The teacher on the same test split. */
    record TeacherScores(String id, double accuracy, double macroF1) {
    }

    void write(Path out, FineTunePublisher.Outcome outcome, String name, Duration took) throws IOException {
        Files.createDirectories(out);
        plot(out.resolve(CURVE));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("student", parent.getStudent());
        json.put("parent_version", parent.getVersion());
        json.put("version", outcome != null && outcome.published() ? outcome.record().getVersion() : null);
        json.put("published_as", outcome != null && outcome.published() ? name : null);
        json.put("refusal", outcome != null && !outcome.published() ? outcome.refusal() : null);
        json.put("teacher", Map.of("id", teacher.id(), "accuracy", teacher.accuracy(), "macro_f1", teacher.macroF1()));
        json.put("before", scores(result.before()));
        json.put("after", scores(result.after()));
        json.put("curve", result.curve().stream().map(e -> {
            Map<String, Object> m = scores(e);
            m.put("epoch", e.epoch());
            m.put("train_loss", e.trainLoss());
            m.put("steps", e.steps());
            return m;
        }).toList());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("file", data.file().toString());
        d.put("sha256", data.sha256());
        d.put("rows", data.rows().size());
        d.put("train_rows", split.train().size());
        d.put("test_rows", split.test().size());
        json.put("data", d);
        json.put("stream", Map.of("replayed_records", stream.replay().size(), "holdout_records", stream.holdout().size()));
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("epochs", settings.epochs());
        s.put("batch_size", settings.batchSize());
        s.put("keep_teacher", settings.keepTeacher());
        s.put("learning_rate", settings.training().learningRate());
        s.put("temperature", settings.training().temperature());
        s.put("seed", settings.seed());
        s.put("optimizer", "Adam from zero moments (the ONNX file carries none)");
        json.put("settings", s);
        json.put("seconds", took.toMillis() / 1000.0);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("finetune.json").toFile(), json);
        Files.writeString(out.resolve("report.md"), markdown(outcome, name), StandardCharsets.UTF_8);
    }

    private static Map<String, Object> scores(FineTuner.Epoch e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accuracy", e.accuracy());
        m.put("macro_f1", e.macroF1());
        m.put("agreement", Double.isNaN(e.agreement()) ? null : e.agreement());
        return m;
    }

    private String markdown(FineTunePublisher.Outcome outcome, String name) {
        StringBuilder md = new StringBuilder();
        md.append("# Fine-tuning ").append(parent.getStudent()).append(" version ").append(parent.getVersion()).append("\n\n");
        md.append(String.format(Locale.ROOT, "Data: `%s` (sha256 %s), %d rows: %d to train, %d to test (each class split alike).%n%n",
                data.file().getFileName(), data.sha256(), data.rows().size(), split.train().size(), split.test().size()));
        md.append(String.format(Locale.ROOT, "Settings: %d epochs, batch %d, Adam at %s from zero moments, keep-teacher %s on %d "
                        + "replayed soft targets; agreement on %d stream holdout records.%n%n", settings.epochs(), settings.batchSize(),
                settings.training().learningRate(), settings.keepTeacher(), stream.replay().size(), stream.holdout().size()));
        md.append("| | test accuracy | test macro-F1 | stream agreement |\n|---|---|---|---|\n");
        md.append(String.format(Locale.ROOT, "| teacher (%s) | %.4f | %.4f | 1 |%n", teacher.id(), teacher.accuracy(), teacher.macroF1()));
        for (FineTuner.Epoch e : result.curve()) {
            md.append(String.format(Locale.ROOT, "| %s | %.4f | %.4f | %.4f |%n", e.epoch() == 0 ? "student before" : "after epoch " + e.epoch(),
                    e.accuracy(), e.macroF1(), e.agreement()));
        }
        md.append("\n![learning curve](").append(CURVE).append(")\n\n");
        if (outcome == null) {
            md.append("Not published.\n");
        } else if (outcome.published()) {
            md.append("Published as `").append(name).append("` version ").append(outcome.record().getVersion()).append(".\n");
        } else {
            md.append("The quality gate refused it; nothing was published: ").append(outcome.refusal()).append("\n");
        }
        return md.toString();
    }

    private void plot(Path png) throws IOException {
        XYSeries accuracy = new XYSeries("test accuracy");
        XYSeries f1 = new XYSeries("test macro-F1");
        XYSeries agreement = new XYSeries("stream agreement with the teacher");
        XYSeries teacherAccuracy = new XYSeries("teacher's test accuracy");
        for (FineTuner.Epoch e : result.curve()) {
            accuracy.add(e.epoch(), e.accuracy());
            f1.add(e.epoch(), e.macroF1());
            if (!Double.isNaN(e.agreement())) {
                agreement.add(e.epoch(), e.agreement());
            }
            teacherAccuracy.add(e.epoch(), teacher.accuracy());
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(accuracy);
        data.addSeries(f1);
        data.addSeries(agreement);
        data.addSeries(teacherAccuracy);
        ExperimentReport.savePlot("fine-tuning " + parent.getStudent() + " v" + parent.getVersion(), "epoch (0: before)", "score",
                data, png, plot -> {
                    // Whole epochs, and the scores' own range: they differ by a few points, not from zero.
                    plot.getDomainAxis().setStandardTickUnits(org.jfree.chart.axis.NumberAxis.createIntegerTickUnits());
                    ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
                });
    }
}
