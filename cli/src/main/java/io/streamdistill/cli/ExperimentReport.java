package io.streamdistill.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * A Markdown report comparing experiments ({@code streamdistill replay} output directories): a
 * side-by-side table and one PNG learning curve per metric with every experiment on it.
 */
public final class ExperimentReport {
    public static final int WIDTH = 900;
    public static final int HEIGHT = 540;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Metrics plotted when present, in this order, with their axis labels. */
    private static final Map<String, String> CURVES = new LinkedHashMap<>();

    static {
        CURVES.put("holdout_agreement", "holdout agreement (top-1, or cosine for embeddings)");
        CURVES.put("holdout_kl", "holdout KL(teacher || student)");
        CURVES.put("progressive_loss", "progressive loss (scored before training)");
        CURVES.put("progressive_agreement", "progressive agreement");
        CURVES.put("holdout_label_accuracy", "holdout accuracy on labelled records");
    }

    record Experiment(Path dir, JsonNode meta, List<JsonNode> points) {
        String name() {
            return meta.path("name").asText(dir.getFileName().toString());
        }
    }

    /** Writes {@code out/report.md} and {@code out/<metric>.png}; returns the report's path. */
    public static Path write(List<Path> experimentDirs, Path out) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Experiment> experiments = new ArrayList<>();
        for (Path dir : experimentDirs) {
            experiments.add(read(dir));
        }
        Files.createDirectories(out);
        StringBuilder md = new StringBuilder();
        md.append("# Experiment report\n\n");
        md.append("Experiments: ");
        experiments.forEach(e -> md.append('`').append(e.name()).append("` "));
        md.append("\n\n| experiment | offsets replayed | versions | final holdout agreement / cosine | holdout KL | student parameters "
                + "| file size | training time | settings changed |\n|---|---|---|---|---|---|---|---|---|\n");
        for (Experiment e : experiments) {
            JsonNode f = e.meta.path("final");
            JsonNode m = f.path("metrics");
            md.append("| ").append(e.name())
                    .append(" | ").append(e.meta.path("offsets_in_range").asLong())
                    .append(" | ").append(e.meta.path("versions").asInt())
                    .append(" | ").append(number(m.path("holdout_agreement"), "%.4f"))
                    .append(" | ").append(number(m.path("holdout_kl"), "%.4f"))
                    .append(" | ").append(f.path("parameters").isMissingNode() ? "—" : String.format(Locale.ROOT, "%,d", f.path("parameters").asLong()))
                    .append(" | ").append(f.path("artifact").path("bytes").isMissingNode() ? "—"
                            : String.format(Locale.ROOT, "%.1f MB", f.path("artifact").path("bytes").asLong() / 1e6))
                    .append(" | ").append(number(e.meta.path("training_seconds"), "%.1f s"))
                    .append(" | ").append(overrides(e.meta.path("overrides")))
                    .append(" |\n");
        }
        md.append("\nRange and code: ");
        for (Experiment e : experiments) {
            md.append("`").append(e.name()).append("` ").append(e.meta.path("topic").asText()).append(" from ")
                    .append(e.meta.path("from").asText()).append(" to ").append(e.meta.path("to").asText())
                    .append(" (seed ").append(e.meta.path("seed").asText()).append(", commit ")
                    .append(shortCommit(e.meta.path("code_version").path("commit").asText("unknown"))).append("); ");
        }
        md.setLength(md.length() - 2);
        md.append(".\n\n## Learning curves\n\n");
        for (Map.Entry<String, String> curve : CURVES.entrySet()) {
            if (experiments.stream().noneMatch(e -> e.points.stream().anyMatch(p -> p.has(curve.getKey())))) {
                continue;
            }
            Path png = out.resolve(curve.getKey() + ".png");
            plot(experiments, curve.getKey(), curve.getValue(), png);
            md.append("### ").append(curve.getValue()).append("\n\n![").append(curve.getKey()).append("](")
                    .append(png.getFileName()).append(")\n\n");
        }
        Path report = out.resolve("report.md");
        Files.writeString(report, md.toString(), StandardCharsets.UTF_8);
        return report;
    }

    private static Experiment read(Path dir) throws IOException {
        Path meta = dir.resolve("experiment.json");
        if (!Files.isRegularFile(meta)) {
            throw new IllegalArgumentException(dir + " is not an experiment: no experiment.json (made by `streamdistill replay`)");
        }
        JsonNode m = JSON.readTree(meta.toFile());
        if (!"finished".equals(m.path("status").asText())) {
            throw new IllegalArgumentException("experiment " + dir + " has not finished (status '" + m.path("status").asText() + "')");
        }
        List<JsonNode> points = new ArrayList<>();
        Path metrics = dir.resolve("metrics.jsonl");
        if (Files.isRegularFile(metrics)) {
            for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    points.add(JSON.readTree(line));
                }
            }
        }
        return new Experiment(dir, m, points);
    }

    private static void plot(List<Experiment> experiments, String metric, String label, Path png) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        Set<String> names = new LinkedHashSet<>();
        for (Experiment e : experiments) {
            String name = names.add(e.name()) ? e.name() : e.name() + " (" + e.dir + ")";
            XYSeries series = new XYSeries(name);
            for (JsonNode p : e.points) {
                if (p.has(metric)) {
                    series.add(p.path("records_seen").asDouble(), p.path(metric).asDouble());
                }
            }
            data.addSeries(series);
        }
        savePlot(label, "records trained on", metric, data, png, plot -> { });
    }

    /** A line chart with a point at each value, white background, WIDTH x HEIGHT. */
    static void savePlot(String title, String xLabel, String yLabel, XYSeriesCollection data, Path png,
                         java.util.function.Consumer<XYPlot> adjust) throws IOException {
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, data,
                PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(renderer);
        adjust.accept(plot);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
    }

    private static String number(JsonNode n, String format) {
        return n.isMissingNode() || n.isNull() ? "—" : String.format(Locale.ROOT, format, n.asDouble());
    }

    private static String overrides(JsonNode o) {
        if (o.isMissingNode() || o.isEmpty()) {
            return "(defaults)";
        }
        List<String> parts = new ArrayList<>();
        o.fields().forEachRemaining(e -> parts.add("`" + e.getKey() + "=" + e.getValue().asText() + "`"));
        return String.join(", ", parts);
    }

    private static String shortCommit(String commit) {
        return commit.length() > 12 ? commit.substring(0, 12) : commit;
    }

    private ExperimentReport() {
    }
}
