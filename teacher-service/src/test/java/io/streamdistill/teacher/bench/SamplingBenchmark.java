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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Adaptive teacher sampling against sampling everything, on the bundled WordNet corpus with the
 * demo's teacher (all-MiniLM-L6-v2 + class prototypes) and the demo's student. The teacher's outputs
 * are computed once for every text (they do not depend on the policy); each policy then replays the
 * stream: the newest published student (every 500 records) decides, the teacher's output is used
 * only where the policy sends the record, and the student trains on those records alone.
 * Two streams: stable (shuffled) and drifting (animals and foods, then plants and persons only).
 * Prints a table and writes {@code target/benchmarks/sampling.json}.
 *
 * <pre>mvn -DskipTests install && mvn -pl teacher-service exec:java@sampling-benchmark</pre>
 */
public final class SamplingBenchmark {
    static final int PUBLISH_EVERY = 500;
    static final int WINDOW = 300;

    record Item(String text, int[] ids, float[] teacher) {
    }

    record Outcome(String stream, String policy, int records, int teacherRuns, double finalAgreement, Integer recoveryRecords,
                   Map<String, Integer> reasons) {
    }

    public static void main(String[] args) throws Exception {
        Path corpus = Files.exists(Path.of("corpus/wordnet-4class.csv")) ? Path.of("corpus/wordnet-4class.csv")
                : Path.of("../corpus/wordnet-4class.csv");
        List<String[]> rows = readCsv(corpus);
        Collections.shuffle(rows, new Random(7));
        List<String[]> labelled = rows.stream().filter(r -> !r[1].isEmpty()).toList();
        Map<String, List<String>> prototypes = new LinkedHashMap<>();
        for (String[] r : labelled) {
            List<String> l = prototypes.computeIfAbsent(r[1], k -> new ArrayList<>());
            if (l.size() < 16) {
                l.add(r[0]);
            }
        }
        List<String> classes = new ArrayList<>(prototypes.keySet());
        TeacherDescriptor d = BuiltInTeachers.ALL_MINILM_L6_V2.descriptor()
                .withHead(new TeacherDescriptor.PrototypeSpec(prototypes, 20f), "bench-prototypes");
        int total = Integer.getInteger("bench.records", 8000);
        List<String> texts = rows.subList(0, Math.min(total, rows.size())).stream().map(r -> r[0]).toList();
        List<Item> items = new ArrayList<>();
        long t0 = System.nanoTime();
        try (Teacher teacher = Teacher.load(d, 2, Teacher.Device.CPU, 0);
             TextTokenizer studentTokenizer = StudentTokenizers.load("all-MiniLM-L6-v2", 128)) {
            List<Integer> order = new ArrayList<>();
            int[][] teacherIds = teacher.tokenizer().encode(texts);
            for (int i = 0; i < texts.size(); i++) {
                order.add(i);
            }
            order.sort(Comparator.comparingInt(i -> teacherIds[i].length));
            float[][] logits = new float[texts.size()][];
            for (int from = 0; from < order.size(); from += 32) {
                List<Integer> chunk = order.subList(from, Math.min(order.size(), from + 32));
                int[][] batch = chunk.stream().map(i -> teacherIds[i]).toArray(int[][]::new);
                float[][] out = teacher.infer(batch);
                for (int j = 0; j < chunk.size(); j++) {
                    logits[chunk.get(j)] = out[j];
                }
            }
            int[][] studentIds = studentTokenizer.encode(texts);
            for (int i = 0; i < texts.size(); i++) {
                items.add(new Item(texts.get(i), studentIds[i], logits[i]));
            }
        }
        System.out.printf("teacher outputs for %d texts computed once in %.0f s%n", items.size(), (System.nanoTime() - t0) / 1e9);

        int evalSize = 1000;
        List<Item> eval = items.subList(items.size() - evalSize, items.size());
        List<Item> stable = items.subList(0, items.size() - evalSize);
        // Drifting: the first half of the stream holds only the first two classes, the second half only the other two.
        List<Item> early = new ArrayList<>();
        List<Item> late = new ArrayList<>();
        for (Item it : stable) {
            (DistillationLoss.argmax(it.teacher) < 2 ? early : late).add(it);
        }
        int half = Math.min(early.size(), late.size());
        List<Item> drifting = new ArrayList<>(early.subList(0, half));
        drifting.addAll(late.subList(0, half));
        List<Item> lateEval = eval.stream().filter(it -> DistillationLoss.argmax(it.teacher) >= 2).toList();

        // The defaults, and variants that trade teacher runs for agreement (exploration, confidence, margin).
        Map<String, SamplingPolicy.Settings> policies = new LinkedHashMap<>();
        SamplingPolicy.Settings def = SamplingPolicy.Settings.defaults();
        policies.put("adaptive (defaults)", def);
        policies.put("explore 5%", new SamplingPolicy.Settings(0.05, def.minConfidence(), def.margin(), def.novelty(), def.driftDrop(),
                def.driftRate(), def.memory(), def.smoothing(), def.seed()));
        policies.put("explore 5%, conf .5/.1", new SamplingPolicy.Settings(0.05, 0.5, 0.1, def.novelty(), def.driftDrop(),
                def.driftRate(), def.memory(), def.smoothing(), def.seed()));
        policies.put("version change, conf .6/.2", new SamplingPolicy.Settings(0.10, 0.6, 0.2, def.novelty(), def.driftDrop(),
                def.driftRate(), def.memory(), def.smoothing(), def.seed(), true));
        policies.put("version change, conf .5/.1", new SamplingPolicy.Settings(0.10, 0.5, 0.1, def.novelty(), def.driftDrop(),
                def.driftRate(), def.memory(), def.smoothing(), def.seed(), true));
        policies.put("explore 10%, conf .6/.2", new SamplingPolicy.Settings(0.10, 0.6, 0.2, def.novelty(), def.driftDrop(),
                def.driftRate(), def.memory(), def.smoothing(), def.seed()));
        List<Outcome> outcomes = new ArrayList<>();
        outcomes.add(simulate("stable", stable, eval, classes, null, null, -1));
        policies.forEach((name, settings) -> outcomes.add(simulate("stable", stable, eval, classes, name, settings, -1)));
        outcomes.add(simulate("drifting", drifting, lateEval, classes, null, null, half));
        policies.forEach((name, settings) -> outcomes.add(simulate("drifting", drifting, lateEval, classes, name, settings, half)));

        System.out.println();
        System.out.printf("%-9s %-26s %8s %10s %9s %10s %12s  %s%n", "stream", "policy", "records", "teacher", "fewer", "agreement",
                "recovery", "teacher runs by reason");
        for (Outcome o : outcomes) {
            Outcome all = outcomes.stream().filter(x -> x.stream.equals(o.stream) && x.policy.equals("sample everything")).findFirst().get();
            System.out.printf("%-9s %-26s %8d %10d %8.1fx %10.4f %12s  %s%n", o.stream, o.policy, o.records, o.teacherRuns,
                    all.teacherRuns / (double) o.teacherRuns, o.finalAgreement,
                    o.recoveryRecords == null ? "-" : o.recoveryRecords < 0 ? "never" : o.recoveryRecords + " rec", o.reasons);
        }
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("date", Instant.now().toString());
        results.put("corpus", corpus.toString());
        results.put("publish_every", PUBLISH_EVERY);
        results.put("policies", policies);
        results.put("outcomes", outcomes);
        Path out = Path.of(Files.exists(Path.of("teacher-service")) ? "teacher-service/target/benchmarks" : "target/benchmarks");
        Files.createDirectories(out);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("sampling.json").toFile(), results);
        System.out.println("wrote " + out.resolve("sampling.json").toAbsolutePath());
    }

    static Outcome simulate(String name, List<Item> stream, List<Item> eval, List<String> classes, String policyName,
                            SamplingPolicy.Settings settings, int shiftAt) {
        StudentConfig config = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(30522).embeddingDim(64)
                .classNames(classes).seed(42).build();
        StudentTrainer trainer = StudentTrainer.create(config, TrainingConfig.builder().learningRate(0.05f).build());
        SamplingPolicy policy = settings == null ? null : new SamplingPolicy(settings);
        StudentTrainer published = null;
        StudentTrainer previous = null;
        List<Example> batch = new ArrayList<>();
        int teacherRuns = 0;
        Map<String, Integer> reasons = new LinkedHashMap<>();
        ArrayDeque<Integer> window = new ArrayDeque<>();
        ArrayDeque<Item> holdout = new ArrayDeque<>();
        int windowSum = 0;
        double preShift = Double.NaN;
        Integer recovery = shiftAt < 0 ? null : -1;
        for (int i = 0; i < stream.size(); i++) {
            Item it = stream.get(i);
            float[] student = published == null ? null : published.predict(it.ids);
            float[] before = previous == null ? null : previous.predict(it.ids);
            int agree = student != null && DistillationLoss.argmax(student) == DistillationLoss.argmax(it.teacher) ? 1 : 0;
            window.addLast(agree);
            windowSum += agree;
            if (window.size() > WINDOW) {
                windowSum -= window.removeFirst();
            }
            if (i == shiftAt) {
                preShift = windowSum / (double) window.size();
            }
            if (shiftAt >= 0 && i > shiftAt + WINDOW && recovery != null && recovery < 0
                    && windowSum / (double) window.size() >= preShift - 0.05) {
                recovery = i - shiftAt;
            }
            SamplingPolicy.Decision decision = policy == null || student == null
                    ? new SamplingPolicy.Decision(SamplingPolicy.Reason.ALL, 1.0) : policy.decide(student, before, true);
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
                    batch.add(Example.unlabelled(it.ids, it.teacher));
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
        return new Outcome(name, policy == null ? "sample everything" : policyName, stream.size(), teacherRuns,
                agreement(trainer, eval), recovery, reasons);
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
