package io.streamdistill.student.bench;

import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.math.Kernels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * GFLOP/s of every {@link Gemm} kernel this JVM can run, on one thread (the trainer runs one per Flink subtask), on
 * the shapes of a small BERT-style student at batch 32 × 16 tokens = 512 rows: the forward products of widths
 * 128 and 384 (feed-forward 4× wide), the weight gradients Aᵀ·B and input gradients A·Bᵀ of each, and one batch-1
 * product. Kernels take turns within each repetition, so load on the machine hits them alike; the figure per kernel is
 * the median over repetitions, and ratios are to the plain kernel in the same run. Prints a table and writes
 * {@code target/benchmarks/gemm.json}.
 *
 * <pre>mvn -pl student-model exec:exec@gemm-benchmark                       # with the Vector API module
 * mvn -pl student-model exec:exec@gemm-benchmark -Dgemm.modules=java.base  # without it (the fallback)</pre>
 */
public final class GemmBenchmark {
    /**
     * C (m × n) = op(A) (m × k) · op(B) (k × n); role says where the student computes it. A matrix with a non-zero
     * {@code ld} of its own is one head's columns inside rows of that width (attention over a 384-wide layer).
     */
    private record Shape(String role, boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc) {
        Shape(String role, boolean transA, boolean transB, int m, int n, int k) {
            this(role, transA, transB, m, n, k, transA ? m : k, transB ? k : n, n);
        }

        double flops() {
            return 2.0 * m * n * k;
        }

        String product() {
            return (transA ? k + "×" + m + "ᵀ" : m + "×" + k) + " · " + (transB ? n + "×" + k + "ᵀ" : k + "×" + n);
        }
    }

    public static void main(String[] args) throws Exception {
        int reps = Integer.getInteger("bench.reps", 7);
        long minNanos = Long.getLong("bench.ms", 150) * 1_000_000;
        List<Shape> shapes = shapes();
        List<Gemm> kernels = Kernels.available();
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("date", Instant.now().toString());
        results.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        results.put("cpu", cpu());
        results.put("vector_module", Kernels.vectorApiPresent());
        results.put("chosen", Kernels.gemm().name());
        results.put("repetitions", reps);
        System.out.printf("%nStreamDistill gemm kernels, one thread — %s%n%s, %s%nvector module: %s; netlib implementation: %s; "
                + "chosen: %s%n%d repetitions of >= %d ms per kernel and shape, kernels interleaved; median GFLOP/s%n%n",
                results.get("date"), results.get("jvm"), results.get("cpu"), Kernels.vectorApiPresent() ? "present" : "absent",
                Kernels.netlib().name(), results.get("chosen"), reps, minNanos / 1_000_000);

        // Warm-up: every kernel on every transpose form and size class, until C2 has compiled the hot loops.
        for (Gemm kernel : kernels) {
            for (Shape shape : shapes) {
                Operands ops = new Operands(shape);
                long until = System.nanoTime() + 200_000_000L;
                while (System.nanoTime() < until) {
                    ops.run(kernel);
                }
            }
        }

        StringBuilder header = new StringBuilder(String.format("| %-30s | %-22s |", "product (role)", "op(A) · op(B)"));
        StringBuilder rule = new StringBuilder("|" + "-".repeat(32) + "|" + "-".repeat(24) + "|");
        for (Gemm kernel : kernels) {
            header.append(String.format(" %22s |", kernel.name()));
            rule.append("-".repeat(23)).append(":|");
        }
        for (Gemm kernel : kernels.subList(1, kernels.size())) {
            header.append(String.format(" %12s |", shortName(kernel) + "/plain"));
            rule.append("-".repeat(13)).append(":|");
        }
        System.out.println(header);
        System.out.println(rule);
        List<Map<String, Object>> rows = new ArrayList<>();
        double[] logRatioSums = new double[kernels.size()];
        for (Shape shape : shapes) {
            Operands ops = new Operands(shape);
            double[][] gflops = new double[kernels.size()][reps];
            for (int r = 0; r < reps; r++) {
                for (int i = 0; i < kernels.size(); i++) {
                    gflops[i][r] = ops.gflops(kernels.get(i), minNanos);
                }
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("role", shape.role());
            row.put("product", shape.product());
            StringBuilder line = new StringBuilder(String.format("| %-30s | %-22s |", shape.role(), shape.product()));
            double[] medians = new double[kernels.size()];
            for (int i = 0; i < kernels.size(); i++) {
                medians[i] = median(gflops[i]);
                row.put(kernels.get(i).name() + " GFLOP/s", medians[i]);
                line.append(String.format(" %22.2f |", medians[i]));
            }
            for (int i = 1; i < kernels.size(); i++) {
                double ratio = medians[i] / medians[0];
                logRatioSums[i] += Math.log(ratio);
                row.put(kernels.get(i).name() + " / plain", ratio);
                line.append(String.format(" %12.2f |", ratio));
            }
            rows.add(row);
            System.out.println(line);
        }
        Map<String, Double> geomean = new LinkedHashMap<>();
        StringBuilder line = new StringBuilder(String.format("| %-30s | %-22s |", "geometric mean of ratios", ""));
        line.append(String.format(" %22s |", "")).append(String.format(" %22s |", "").repeat(kernels.size() - 1));
        for (int i = 1; i < kernels.size(); i++) {
            double g = Math.exp(logRatioSums[i] / shapes.size());
            geomean.put(kernels.get(i).name() + " / plain", g);
            line.append(String.format(" %12.2f |", g));
        }
        System.out.println(line);
        results.put("rows", rows);
        results.put("geometric_mean_ratio_to_plain", geomean);
        Path out = Path.of("target", "benchmarks", "gemm.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                .writeValueAsString(results));
        System.out.println("\nwrote " + out.toAbsolutePath());
    }

    /** Forward, weight-gradient and input-gradient products of each layer of widths 128 and 384, then batch 1. */
    private static List<Shape> shapes() {
        int rows = 32 * 16;
        int[][] layers = {{128, 128}, {128, 512}, {512, 128}, {384, 384}, {384, 1536}, {1536, 384}};
        List<Shape> shapes = new ArrayList<>();
        for (int[] layer : layers) {
            int in = layer[0];
            int out = layer[1];
            String name = in + "→" + out;
            shapes.add(new Shape(name + " forward X·W", false, false, rows, out, in));
            shapes.add(new Shape(name + " weight grad Xᵀ·dY", true, false, in, out, rows));
            shapes.add(new Shape(name + " input grad dY·Wᵀ", false, true, rows, in, out));
        }
        shapes.add(new Shape("384→384 forward, batch 1", false, false, 16, 384, 384));
        // One head (64 wide) of 6 in a 384-wide layer, 16 tokens: scores, context, and the backward's Pᵀ·dC.
        shapes.add(new Shape("attention Q·Kᵀ, one head", false, true, 16, 16, 64, 384, 384, 16));
        shapes.add(new Shape("attention P·V, one head", false, false, 16, 64, 16, 16, 384, 384));
        shapes.add(new Shape("attention Pᵀ·dC, one head", true, false, 16, 64, 16, 16, 384, 384));
        return shapes;
    }

    /** Random operands stored as the shape says (a transposed operand is stored transposed), and C. */
    private static final class Operands {
        private final Shape shape;
        private final float[] a;
        private final float[] b;
        private final float[] c;

        Operands(Shape shape) {
            this.shape = shape;
            Random random = new Random(shape.m() * 31L + shape.n() * 7L + shape.k());
            a = fill(random, (shape.transA() ? shape.k() : shape.m()) * shape.lda());
            b = fill(random, (shape.transB() ? shape.n() : shape.k()) * shape.ldb());
            c = new float[shape.m() * shape.ldc()];
        }

        void run(Gemm kernel) {
            Shape s = shape;
            kernel.gemm(s.transA(), s.transB(), s.m(), s.n(), s.k(), 1f, a, 0, s.lda(), b, 0, s.ldb(), 0f, c, 0, s.ldc());
        }

        /** Calls until minNanos have passed; GFLOP/s over them. */
        double gflops(Gemm kernel, long minNanos) {
            long start = System.nanoTime();
            long calls = 0;
            long now;
            do {
                run(kernel);
                calls++;
                now = System.nanoTime();
            } while (now - start < minNanos);
            return calls * shape.flops() / (now - start);
        }

        private static float[] fill(Random random, int size) {
            float[] x = new float[size];
            for (int i = 0; i < size; i++) {
                x[i] = (float) random.nextGaussian();
            }
            return x;
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static String shortName(Gemm kernel) {
        return kernel.name().split(" ")[0];
    }

    private static String cpu() {
        String model = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).strip();
                    break;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // Not Linux: the model is only a label in the table.
        }
        return model + ", " + Runtime.getRuntime().availableProcessors() + " cores visible";
    }
}
