package io.streamdistill.cli;

import io.streamdistill.records.FineTuneLineage;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.Topics;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.TrainingConfig;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import io.streamdistill.trainer.QualityGate;
import io.streamdistill.trainer.TrainerConfig;
import io.streamdistill.trainer.finetune.FineTunePublisher;
import io.streamdistill.student.train.FineTuner;
import io.streamdistill.trainer.finetune.StreamSample;
import io.streamdistill.trainer.finetune.StudentLine;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code streamdistill finetune}: the seed's fourth step. Continues a published classification student
 * on a labelled dataset (cross-entropy), optionally keeping a distillation term on soft targets replayed
 * from the stream, scores it before and after on the dataset's test split and on the stream's holdout,
 * writes a report, and (asked to) publishes it as a new version through the parent's quality gate.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Fine-tune a published student on a labelled dataset and (optionally) publish it as a new version.")
public final class FinetuneCommand implements Callable<Integer> {
    /** Fewer rows of a class than this cannot give both a training and a test row and a learning signal. */
    static final int MIN_ROWS_PER_CLASS = 5;
    /** Chosen across corpora (docs/benchmarks.md, "Fine-tuning"). */
    static final String DEFAULT_LEARNING_RATE = "0.003";

    @Option(names = "--student", required = true, description = "the student line to fine-tune (its checkpoint records' key)")
    String student;

    @Option(names = "--from-version", defaultValue = "latest", description = "the version to start from: N or latest (default: ${DEFAULT-VALUE})")
    String fromVersion;

    @Option(names = "--data", required = true, description = "labelled rows: .csv with text and label columns, or .jsonl")
    Path data;

    @Option(names = "--epochs", defaultValue = "4", description = "passes over the training rows (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--test-split", defaultValue = "0.2", description = "share of each class held out to test on (default: ${DEFAULT-VALUE})")
    double testSplit;

    @Option(names = "--keep-teacher", defaultValue = "0.3", description = "weight A of the distillation loss on soft targets replayed "
            + "from the stream, in [0, 1); 0 trains on the labels alone (default: ${DEFAULT-VALUE})")
    float keepTeacher;

    @Option(names = "--learning-rate", defaultValue = DEFAULT_LEARNING_RATE, description = "Adam's rate (default: ${DEFAULT-VALUE})")
    float learningRate;

    @Option(names = "--batch-size", defaultValue = "32", description = "labelled rows per step (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--teacher", description = "the teacher, for its accuracy on the test split: a built-in id, descriptor or "
            + "directory (default with --data-dir: the demo's, DIR/teacher.json)")
    String teacherName;

    static final class Destination {
        @Option(names = "--publish", description = "publish the fine-tuned student to the production checkpoints topic (serve picks it up)")
        boolean production;

        @Option(names = "--publish-to", description = "publish it to this experiment topic instead")
        String topic;
    }

    @ArgGroup(exclusive = true)
    Destination publish;

    @Option(names = "--as", description = "the student line to publish under (default: the parent's)")
    String publishAs;

    @Option(names = "--gate", description = "gate.min.agreement or gate.max.regression for this run (default: the parent's), key=value")
    Map<String, String> gate = new LinkedHashMap<>();

    @Option(names = "--out", defaultValue = "finetune", description = "where report.md, the learning curve and finetune.json go "
            + "(default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--topic", defaultValue = Topics.SOFT_TARGETS, description = "soft targets to replay and score on (default: ${DEFAULT-VALUE})")
    String softTargets;

    @Option(names = "--checkpoints-topic", defaultValue = Topics.CHECKPOINTS, description = "(default: ${DEFAULT-VALUE})")
    String checkpointsTopic;

    @Option(names = "--stream-records", defaultValue = "20000", description = "read at most this many soft targets (default: ${DEFAULT-VALUE})")
    int streamRecords;

    @Option(names = "--seed", defaultValue = "7", description = "shuffling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Mixin
    ClusterOptions cluster;

    @Override
    public Integer call() throws Exception {
        validate();
        try (ClusterOptions.Cluster c = cluster.open()) {
            if (io.streamdistill.trainer.ObjectStoreFileSystem.needed(c.settings())) {
                // The line's files are read, and the fine-tuned one written, through Flink's file systems.
                io.streamdistill.trainer.ObjectStoreFileSystem.initialize(c.settings());
            }
            return run(c);
        }
    }

    private void validate() {
        if (!(testSplit > 0 && testSplit < 1)) {
            throw new IllegalArgumentException("--test-split must be in (0, 1), got " + testSplit);
        }
        if (!(learningRate > 0 && learningRate < 1)) {
            throw new IllegalArgumentException("--learning-rate must be in (0, 1), got " + learningRate);
        }
        if (streamRecords < 0) {
            throw new IllegalArgumentException("--stream-records must be >= 0, got " + streamRecords);
        }
        for (String k : gate.keySet()) {
            if (!k.equals("gate.min.agreement") && !k.equals("gate.max.regression")) {
                throw new IllegalArgumentException("--gate takes gate.min.agreement or gate.max.regression, got '" + k + "'");
            }
        }
        if (publishAs != null && !publishAs.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("--as must be letters, digits, '.', '_' or '-', got '" + publishAs + "'");
        }
        if (publishAs != null && publish == null) {
            throw new IllegalArgumentException("--as goes with --publish or --publish-to");
        }
        if (publish != null && publish.topic != null && publish.topic.equals(checkpointsTopic)) {
            throw new IllegalArgumentException("--publish-to " + publish.topic + " is the production topic: use --publish");
        }
    }

    private int run(ClusterOptions.Cluster c) throws Exception {
        Instant started = Instant.now();
        SchemaRegistryClient registry = c.registry();
        StudentLine line = StudentLine.read(c.settings(), registry, checkpointsTopic, student);
        StudentCheckpoint parent = line.version(fromVersion);
        if (!parent.getTask().name().equals("CLASSIFICATION")) {
            throw new IllegalArgumentException("student '" + student + "' is an " + parent.getTask() + " student; finetune trains"
                    + " classification students on labels");
        }
        if (publish != null) {
            target(c, registry, line);
        }
        List<String> classes = List.copyOf(parent.getClassNames());
        Map<String, String> parentSettings = new TreeMap<>();
        parent.getSettings().forEach((k, v) -> parentSettings.put(k, v));
        Learner model = StudentLine.load(parent, trainingConfig(parentSettings));
        LabelledData dataset = LabelledData.read(data, classes, MIN_ROWS_PER_CLASS);
        Split split = Split.of(dataset.rows(), testSplit);
        System.out.printf("finetune: student '%s' version %d (%s, %d records distilled), %d labelled rows of %s: %d to train, %d to"
                        + " test%n", student, parent.getVersion(), parent.getArchitecture(), parent.getRecordsSeen(), dataset.rows().size(),
                data, split.train().size(), split.test().size());

        try (TextTokenizer tokenizer = StudentTokenizers.load(setting(parentSettings, "student.tokenizer"),
                Integer.parseInt(setting(parentSettings, "student.max.tokens")))) {
            int holdoutPercent = Integer.parseInt(setting(parentSettings, "holdout.percent"));
            StreamSample stream = StreamSample.read(c.settings(), registry, softTargets, tokenizer, classes.size(), holdoutPercent,
                    streamRecords);
            System.out.printf("  stream: %d soft targets of %s read: %d to replay, %d held out to score agreement on%s%n", stream.read(),
                    softTargets, stream.replay().size(), stream.holdout().size(),
                    stream.skipped() > 0 ? " (" + stream.skipped() + " of another task or width left out)" : "");
            FinetuneReport.TeacherScores teacherScores = teacherScores(parent, split.test(), classes);
            FineTuner.Settings settings = new FineTuner.Settings(epochs, batchSize, keepTeacher,
                    trainingConfig(parentSettings), seed);
            FineTuner.Result result = FineTuner.run(model, labelled(split.train(), tokenizer, classes),
                    labelled(split.test(), tokenizer, classes), stream.replay(), stream.holdout(), settings, System.out::println);

            FinetuneReport report = new FinetuneReport(parent, dataset, split, stream, teacherScores, settings, result);
            FineTunePublisher.Outcome outcome = null;
            if (publish != null) {
                outcome = publish(c, registry, line, parent, dataset, split, stream, result, tokenizer.id(), parentSettings, settings);
            }
            Files.createDirectories(out);
            report.write(out, outcome, publishAs == null ? student : publishAs, Duration.between(started, Instant.now()));
            System.out.printf("before: accuracy %.4f, macro-F1 %.4f, stream agreement %.4f | after: accuracy %.4f, macro-F1 %.4f,"
                            + " stream agreement %.4f | teacher accuracy %.4f%n", result.before().accuracy(), result.before().macroF1(),
                    result.before().agreement(), result.after().accuracy(), result.after().macroF1(), result.after().agreement(),
                    teacherScores.accuracy());
            System.out.println("wrote " + out.resolve("report.md").toAbsolutePath() + ", " + out.resolve("finetune.json").getFileName()
                    + " and " + out.resolve(FinetuneReport.CURVE).getFileName());
            if (outcome == null) {
                System.out.println("not published (give --publish or --publish-to TOPIC)");
                return 0;
            }
            if (!outcome.published()) {
                System.out.println("the quality gate refused the fine-tuned student; nothing published: " + outcome.refusal());
                return 1;
            }
            System.out.printf("published '%s' version %d to %s (parent version %d)%n", outcome.record().getStudent(),
                    outcome.record().getVersion(), publish.production ? checkpointsTopic : publish.topic, parent.getVersion());
            return 0;
        }
    }

    /** The parent's value of a trainer setting, or the trainer's default (a checkpoint from before that setting existed). */
    private static String setting(Map<String, String> parentSettings, String key) {
        return parentSettings.getOrDefault(key, TrainerConfig.defaultValue(key));
    }

    /** The labelled rows split by class: the same share of each class tested, chosen by a hash of the text. */
    record Split(List<LabelledData.Row> train, List<LabelledData.Row> test) {
        static Split of(List<LabelledData.Row> rows, double share) {
            Map<String, List<LabelledData.Row>> byClass = new LinkedHashMap<>();
            rows.forEach(r -> byClass.computeIfAbsent(r.label(), l -> new ArrayList<>()).add(r));
            List<LabelledData.Row> train = new ArrayList<>();
            List<LabelledData.Row> test = new ArrayList<>();
            byClass.values().forEach(group -> {
                List<LabelledData.Row> sorted = new ArrayList<>(group);
                sorted.sort(java.util.Comparator.comparingLong((LabelledData.Row r) -> fnv(r.text())).thenComparingInt(LabelledData.Row::line));
                int n = Math.max(1, Math.min(sorted.size() - 1, (int) Math.round(share * sorted.size())));
                test.addAll(sorted.subList(0, n));
                train.addAll(sorted.subList(n, sorted.size()));
            });
            train.sort(java.util.Comparator.comparingInt(LabelledData.Row::line));
            test.sort(java.util.Comparator.comparingInt(LabelledData.Row::line));
            return new Split(List.copyOf(train), List.copyOf(test));
        }

        private static long fnv(String s) {
            long h = 0xcbf29ce484222325L;
            for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                h ^= b & 0xff;
                h *= 0x100000001b3L;
            }
            return h;
        }
    }

    private static List<FineTuner.Labelled> labelled(List<LabelledData.Row> rows, TextTokenizer tokenizer, List<String> classes) {
        int[][] ids = tokenizer.encode(rows.stream().map(LabelledData.Row::text).toList());
        List<FineTuner.Labelled> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            out.add(new FineTuner.Labelled(ids[i], classes.indexOf(rows.get(i).label())));
        }
        return out;
    }

    /** The parent's training settings (temperature, clipping, dropout), at the fine-tuning rate. */
    private TrainingConfig trainingConfig(Map<String, String> parentSettings) {
        Map<String, String> t = new LinkedHashMap<>();
        parentSettings.forEach((k, v) -> {
            if (k.startsWith("training.")) {
                t.put(k.substring("training.".length()), v);
            }
        });
        t.put("learningRate", String.valueOf(learningRate));
        t.put("warmupSteps", "0");
        return TrainingConfig.fromMap(t);
    }

    /** The teacher's accuracy and macro-F1 on the test split: what the student is compared with. */
    private FinetuneReport.TeacherScores teacherScores(StudentCheckpoint parent, List<LabelledData.Row> test, List<String> classes) {
        String name = teacherName;
        if (name == null) {
            if (cluster.dataDir == null || !Files.isRegularFile(cluster.dataDir.resolve("teacher.json"))) {
                throw new IllegalArgumentException("which teacher is the student compared with? give --teacher NAME|DIR (a demo's"
                        + " --data-dir has it as teacher.json)");
            }
            name = cluster.dataDir.resolve("teacher.json").toString();
        }
        try (Teacher teacher = Teacher.load(TeacherDescriptor.resolve(name), 1, Teacher.Device.CPU, 0)) {
            if (!teacher.classNames().equals(classes)) {
                throw new IllegalArgumentException("the teacher's classes " + teacher.classNames() + " are not the student's " + classes);
            }
            if (!teacher.ref().getSha256().equals(parent.getTeacher().getSha256())) {
                System.out.printf("  note: teacher %s (sha256 %s) is not the one version %d was distilled from (%s, sha256 %s); the"
                                + " comparison is with the teacher given%n", teacher.descriptor().id(), teacher.ref().getSha256(),
                        parent.getVersion(), parent.getTeacher().getModelId(), parent.getTeacher().getSha256());
            }
            float[][] logits = teacher.infer(teacher.tokenizer().encode(test.stream().map(LabelledData.Row::text).toList()));
            int[] predicted = new int[test.size()];
            int[] truth = new int[test.size()];
            int correct = 0;
            for (int i = 0; i < test.size(); i++) {
                predicted[i] = DistillationLoss.argmax(logits[i]);
                truth[i] = classes.indexOf(test.get(i).label());
                correct += predicted[i] == truth[i] ? 1 : 0;
            }
            return new FinetuneReport.TeacherScores(teacher.descriptor().id(), correct / (double) test.size(),
                    FineTuner.macroF1(predicted, truth, classes.size()));
        }
    }

    /** The line published to; refused up front while a live trainer still publishes to it. */
    private StudentLine target(ClusterOptions.Cluster c, SchemaRegistryClient registry, StudentLine line) {
        String name = publishAs == null ? student : publishAs;
        String topic = publish.production ? checkpointsTopic : publish.topic;
        StudentLine target = name.equals(student) && topic.equals(checkpointsTopic) ? line
                : topic.equals(checkpointsTopic) ? StudentLine.read(c.settings(), registry, topic, name)
                : StudentLine.readIfExists(c.settings(), registry, topic, name);
        if (topic.equals(checkpointsTopic) && !target.versions().isEmpty()) {
            // Numbers never clash (both claim theirs in the artifact store), but a live trainer's next version would
            // supersede the fine-tuned one within an export interval: refuse, and say how to keep both.
            StudentCheckpoint newest = target.versions().get(target.versions().size() - 1);
            long every = Long.parseLong(setting(newest.getSettings(), "export.every.seconds"));
            long age = Duration.between(newest.getCreatedAt(), Instant.now()).toSeconds();
            if (newest.getFineTune() == null && age < 3 * every) {
                throw new IllegalArgumentException("student '" + name + "' is still being trained (version " + newest.getVersion()
                        + " published " + age + " s ago): publish under a line of its own with --as NAME, or stop its trainer");
            }
        }
        return target;
    }

    private FineTunePublisher.Outcome publish(ClusterOptions.Cluster c, SchemaRegistryClient registry, StudentLine line,
                                              StudentCheckpoint parent, LabelledData dataset, Split split, StreamSample stream,
                                              FineTuner.Result result, String tokenizerId, Map<String, String> parentSettings,
                                              FineTuner.Settings settings) throws Exception {
        String name = publishAs == null ? student : publishAs;
        String topic = publish.production ? checkpointsTopic : publish.topic;
        StudentLine target = target(c, registry, line);
        long version = Math.max(line.highestVersion(), target.highestVersion()) + 1;
        Map<String, String> shaping = new TreeMap<>(parentSettings);
        shaping.put("student.name", name);
        shaping.put("finetune.epochs", String.valueOf(settings.epochs()));
        shaping.put("finetune.batchSize", String.valueOf(settings.batchSize()));
        shaping.put("finetune.keepTeacher", String.valueOf(settings.keepTeacher()));
        shaping.put("finetune.learningRate", String.valueOf(settings.training().learningRate()));
        shaping.put("finetune.testSplit", String.valueOf(testSplit));
        shaping.put("finetune.seed", String.valueOf(settings.seed()));
        shaping.putAll(gate);
        QualityGate qualityGate = new QualityGate(
                Double.parseDouble(gate.getOrDefault("gate.min.agreement", setting(parentSettings, "gate.min.agreement"))),
                Double.parseDouble(gate.getOrDefault("gate.max.regression", setting(parentSettings, "gate.max.regression"))),
                setting(parentSettings, "holdout.percent"));
        FineTuneLineage lineage = FineTuneLineage.newBuilder().setParentStudent(parent.getStudent()).setParentVersion(parent.getVersion())
                .setParentSha256(parent.getArtifact().getSha256()).setDataset(data.getFileName().toString())
                .setDatasetSha256(dataset.sha256()).setDatasetRows(dataset.rows().size()).setTrainRows(split.train().size())
                .setEpochs(settings.epochs()).setKeepTeacher(settings.keepTeacher()).setReplayedRecords(stream.replay().size()).build();
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("holdout_agreement", result.after().agreement());
        metrics.put("holdout_records", (double) stream.holdout().size());
        metrics.put("test_accuracy", result.after().accuracy());
        metrics.put("test_macro_f1", result.after().macroF1());
        metrics.put("parent_holdout_agreement", result.before().agreement());
        metrics.put("parent_test_accuracy", result.before().accuracy());
        URI base = StudentLine.artifactBase(parent);
        return FineTunePublisher.publish(c.settings(), registry, topic, base, new FineTunePublisher.Candidate(name, version,
                result.trainer(), result.trainer().step(), tokenizerId, parent, lineage, result.after().agreement(), stream.holdout().size(),
                result.before().agreement(), metrics, shaping, qualityGate));
    }
}
