package io.streamdistill.student.bench;

import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.sync.ModelDelta;
import io.streamdistill.student.sync.Replica;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Rng;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What data-parallel training with periodic model averaging ({@link Replica}, {@link ModelDelta})
 * costs in quality and sync traffic, before any Flink: N replicas take turns at the batches of one
 * stream, every R records per replica their moves are merged, and the merged model (what would be
 * published) is scored on held-out texts against a single trainer that saw the same records.
 * Three corpora that differ in length, classes and vocabulary; learning curves, not one point.
 * Prints a table and writes {@code target/benchmarks/parallel-training.json}.
 *
 * <pre>mvn -pl student-model exec:java@parallel-benchmark</pre>
 */
public final class ParallelTrainingBenchmark {
    private record Corpus(String name, int vocab, int minLength, int maxLength, int classes, float scale) {
    }

    private static final List<Corpus> CORPORA = List.of(
            new Corpus("short texts, 4 classes", 8000, 6, 16, 4, 3f),
            new Corpus("long texts, 2 classes", 20000, 40, 120, 2, 6f),
            new Corpus("12 classes", 5000, 10, 30, 12, 3f));

    public static void main(String[] args) throws Exception {
        int records = Integer.getInteger("bench.records", 40000);
        int[] replicas = {2, 4};
        int[] rounds = {500, 5000};
        // -Dbench.merges='a;b' picks some of these (the full set takes a while on 2 cores).
        List<String> merges = List.of(System.getProperty("bench.merges", "mean;sum;mean, lr x sqrt N;mean, lr x sqrt N, 8-bit")
                .split(";"));
        int[] curve = {records / 16, records / 8, records / 4, records / 2, records};
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("date", Instant.now().toString());
        results.put("records", records);
        results.put("curve_at_records", curve);
        List<Map<String, Object>> rows = new ArrayList<>();
        System.out.printf("%nStreamDistill data-parallel training (model averaging) — %s%n%d records per corpus, student d=64 + "
                + "16k bigrams, batch 32; holdout agreement of the merged model at %s records%n%n", results.get("date"), records,
                java.util.Arrays.toString(curve));
        System.out.printf("| %-24s | %-40s | %-40s | %16s | %12s |%n|%s|%s|%s|%s|%s|%n", "corpus", "trainers",
                "agreement along the curve", "sync B / record", "sync/train", "-".repeat(26), "-".repeat(42), "-".repeat(42),
                "-".repeat(18), "-".repeat(14));
        for (Corpus corpus : CORPORA) {
            List<Example> train = examples(corpus, records, 1);
            List<Example> holdout = examples(corpus, 2000, 2);
            StudentConfig config = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(corpus.vocab()).embeddingDim(64)
                    .bigramBuckets(16384).classNames(classNames(corpus.classes())).seed(7).build();
            TrainingConfig training = TrainingConfig.builder().build();
            double[] single = single(config, training, train, holdout, curve);
            print(rows, corpus, "1 (one trainer)", single, 0, 0);
            for (int n : replicas) {
                for (int r : rounds) {
                    for (String merge : merges) {
                        double[] syncBytes = new double[3]; // bytes, training ns, sync ns
                        TrainingConfig replicaTraining = merge.contains("sqrt") ? TrainingConfig.builder()
                                .learningRate((float) (training.learningRate() * Math.sqrt(n))).build() : training;
                        double[] parallel = parallel(config, replicaTraining, train, holdout, curve, n, r, merge.equals("sum"),
                                merge.endsWith("8-bit"), syncBytes);
                        print(rows, corpus, n + ", " + merge + ", every " + r, parallel, syncBytes[0] / records,
                                syncBytes[2] / syncBytes[1]);
                    }
                }
            }
        }
        results.put("rows", rows);
        Path out = Path.of("target", "benchmarks", "parallel-training.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                .writeValueAsString(results));
        System.out.println("\nwrote " + out.toAbsolutePath());
    }

    private static void print(List<Map<String, Object>> rows, Corpus corpus, String trainers, double[] curve, double syncPerRecord,
                              double syncCpuShare) {
        StringBuilder s = new StringBuilder();
        for (double a : curve) {
            s.append(String.format("%.3f ", a));
        }
        System.out.printf("| %-24s | %-40s | %-40s | %,16.0f | %12.3f |%n", corpus.name(), trainers, s.toString().trim(), syncPerRecord,
                syncCpuShare);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("corpus", corpus.name());
        row.put("trainers", trainers);
        row.put("agreement", curve);
        row.put("sync_bytes_per_record", syncPerRecord);
        row.put("sync_cpu_per_training_cpu", syncCpuShare);
        rows.add(row);
    }

    private static double[] single(StudentConfig config, TrainingConfig training, List<Example> train, List<Example> holdout,
                                   int[] curve) {
        StudentTrainer trainer = StudentTrainer.create(config, training);
        double[] out = new double[curve.length];
        int point = 0;
        for (int i = 0; i + 32 <= train.size(); i += 32) {
            trainer.train(train.subList(i, i + 32));
            while (point < curve.length && i + 32 >= curve[point]) {
                out[point++] = agreement(trainer.student(), config, training, holdout);
            }
        }
        return out;
    }

    /** N replicas dealt the batches in turn; each round all of them hand over their move and adopt the merged one. */
    private static double[] parallel(StudentConfig config, TrainingConfig training, List<Example> train, List<Example> holdout,
                                     int[] curve, int n, int recordsPerRound, boolean sum, boolean eightBit, double[] syncBytes) {
        List<Replica> replicas = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            replicas.add(new Replica(StudentTrainer.create(config, training), eightBit));
        }
        Student merged = new Student(config);
        double[] out = new double[curve.length];
        int point = 0;
        int sinceRound = 0;
        for (int i = 0, b = 0; i + 32 <= train.size(); i += 32, b++) {
            long t0 = System.nanoTime();
            replicas.get(b % n).train(train.subList(i, i + 32));
            syncBytes[1] += System.nanoTime() - t0;
            sinceRound += 32;
            boolean last = i + 64 > train.size();
            if (sinceRound >= recordsPerRound * n || last || (point < curve.length && i + 32 >= curve[point])) {
                // Timed as the job does it: each move taken and sent, the merge read, merged and sent, each replica reading it.
                long t1 = System.nanoTime();
                List<ModelDelta> deltas = new ArrayList<>();
                for (Replica r : replicas) {
                    deltas.add(roundTrip(r.take()));
                }
                ModelDelta m = sum ? ModelDelta.sum(deltas) : ModelDelta.mean(deltas);
                byte[] sent = m.toBytes();
                for (int k = 0; k < n; k++) {
                    replicas.get(k).adopt(read(sent), deltas.get(k));
                    syncBytes[0] += deltas.get(k).bytes() + m.bytes(); // each sends its move and reads the merged one
                }
                syncBytes[2] += System.nanoTime() - t1;
                m.applyTo(merged);
                sinceRound = 0;
            }
            while (point < curve.length && i + 32 >= curve[point]) {
                out[point++] = agreement(merged, config, training, holdout);
            }
        }
        return out;
    }

    private static ModelDelta roundTrip(ModelDelta d) {
        return read(d.toBytes());
    }

    private static ModelDelta read(byte[] b) {
        try {
            return ModelDelta.fromBytes(b);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static double agreement(Student student, StudentConfig config, TrainingConfig training, List<Example> holdout) {
        StudentTrainer scorer = StudentTrainer.fromBytes(StudentTrainer.create(student, training).toBytes());
        return holdout.stream().mapToDouble(e -> scorer.evaluate(e).agreement()).average().orElseThrow();
    }

    /** Zipf-distributed token ids (s = 1.1, as words in text) and a fixed random bag-of-tokens teacher's logits, centred. */
    private static List<Example> examples(Corpus c, int n, long seed) {
        Rng teacherRng = new Rng(c.vocab() * 31L + c.classes());
        int dim = 24;
        float[] vectors = new float[c.vocab() * dim];
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = (float) teacherRng.nextGaussian();
        }
        float[] head = new float[c.classes() * dim];
        for (int i = 0; i < head.length; i++) {
            head[i] = (float) (teacherRng.nextGaussian() / Math.sqrt(dim));
        }
        double[] cumulative = new double[c.vocab()];
        double sum = 0;
        for (int i = 0; i < c.vocab(); i++) {
            sum += 1 / Math.pow(i + 1, 1.1);
            cumulative[i] = sum;
        }
        Rng rng = new Rng(seed);
        List<Example> out = new ArrayList<>(n);
        for (int e = 0; e < n; e++) {
            int[] ids = new int[c.minLength() + (int) (rng.nextDouble() * (c.maxLength() - c.minLength() + 1))];
            float[] pooled = new float[dim];
            for (int t = 0; t < ids.length; t++) {
                int at = java.util.Arrays.binarySearch(cumulative, rng.nextDouble() * sum);
                ids[t] = Math.min(c.vocab() - 1, at < 0 ? -at - 1 : at);
                // Rarer tokens weigh more (as IDF does), so the words every text shares do not decide the class.
                float weight = (float) Math.log(2 + ids[t]);
                for (int j = 0; j < dim; j++) {
                    pooled[j] += weight * vectors[ids[t] * dim + j] / ids.length;
                }
            }
            float[] logits = new float[c.classes()];
            for (int k = 0; k < c.classes(); k++) {
                for (int j = 0; j < dim; j++) {
                    logits[k] += head[k * dim + j] * pooled[j] * c.scale();
                }
            }
            out.add(Example.unlabelled(ids, logits));
        }
        // Centre each class's logit on the corpus mean, so no class wins every text.
        float[] mean = new float[c.classes()];
        for (Example e : out) {
            for (int k = 0; k < mean.length; k++) {
                mean[k] += e.teacher()[k] / n;
            }
        }
        for (Example e : out) {
            for (int k = 0; k < mean.length; k++) {
                e.teacher()[k] -= mean[k];
            }
        }
        return out;
    }

    private static List<String> classNames(int n) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add("c" + i);
        }
        return names;
    }

    private ParallelTrainingBenchmark() {
    }
}
