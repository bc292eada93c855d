package io.streamdistill.cli;

import io.streamdistill.localstack.BrokerSecurity;
import io.streamdistill.artifacts.ArtifactReader;
import io.streamdistill.localstack.LocalStack;
import io.streamdistill.monitor.Monitor;
import io.streamdistill.monitor.MonitorConfig;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.Topics;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.StaticDistillation;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import io.streamdistill.teacher.service.Metrics;
import io.streamdistill.teacher.service.TeacherConfig;
import io.streamdistill.teacher.service.TeacherService;
import io.streamdistill.trainer.ObjectStoreFileSystem;
import io.streamdistill.trainer.Preset;
import io.streamdistill.trainer.StudentTrainerJob;
import io.streamdistill.trainer.TrainerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code streamdistill demo}: the whole system in one process on the embedded stack. Replays a
 * corpus into distill.text as live traffic; the teacher service turns it into soft targets; the
 * Flink trainer (local MiniCluster) publishes student checkpoints; progress is printed as it goes;
 * at the end a teacher-vs-student summary is printed and written to DIR/summary.json.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the whole pipeline locally (embedded Kafka + registry, teacher, Flink trainer) on a corpus replayed as live traffic.")
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--records", defaultValue = "3000", description = "stop producing after N records (default: ${DEFAULT-VALUE})")
    int records;

    @Option(names = "--duration", defaultValue = "PT4M", description = "or after this long, ISO-8601 (e.g. PT90S; default: ${DEFAULT-VALUE})")
    Duration duration;

    @Option(names = "--rate", defaultValue = "40", description = "records per second (default: ${DEFAULT-VALUE})")
    int rate;

    @Option(names = "--corpus", description = "lines, .jsonl or .csv (text[,label]); default: the bundled WordNet corpus")
    Path corpusFile;

    @Option(names = "--task", description = "classification or embedding (default: classification when the corpus has at least"
            + " 2 labels, embedding otherwise)")
    String task;

    @Option(names = "--data-dir", defaultValue = "streamdistill-data", description = "state of the stack, checkpoints, summary (default: ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--fresh", description = "wipe --data-dir first")
    boolean fresh;

    @Option(names = "--kafka-port", defaultValue = "0", description = "broker port (default: any free port)")
    int kafkaPort;

    @Option(names = "--registry-port", defaultValue = "0", description = "registry port (default: any free port)")
    int registryPort;

    @Option(names = "--dashboard-port", defaultValue = "0", description = "the monitor's dashboard port (default: any free port)")
    int dashboardPort;

    @Option(names = "--no-dashboard", description = "do not start the monitor and its dashboard")
    boolean noDashboard;

    @Option(names = "--linger", defaultValue = "PT0S", description = "keep the stack and the dashboard up this long after the "
            + "summary, ISO-8601 (e.g. PT5M; default: no)")
    Duration linger;

    @Option(names = "--export-every-seconds", defaultValue = "15", description = "student export cadence (default: ${DEFAULT-VALUE})")
    int exportSeconds;

    @Option(names = "--eval-texts", defaultValue = "400", description = "corpus rows kept out of the stream for the summary; a"
            + " corpus of fewer than twice as many rows holds out a fifth instead (default: ${DEFAULT-VALUE})")
    int evalTexts;

    @Option(names = "--adaptive-sampling", description = "run the teacher only where the newest demo student needs it (the "
            + "teacher's sampling.enabled with its defaults; see docs/teacher-service.md)")
    boolean adaptiveSampling;

    @Option(names = "--init", defaultValue = "static", description = "how the student starts: static (warm start from a static "
            + "table distilled from the teacher, cached; version 1 is published before any training) or random (default: ${DEFAULT-VALUE})")
    String init;

    @Option(names = "--secure", description = "run on the secure local stack: SASL_SSL (SCRAM-SHA-512) with a principal per "
            + "component and ACLs, the registry over TLS with basic auth (see docs/reliability.md, \"Secure stack\")")
    boolean secure;

    @Option(names = "--on-bad-line", defaultValue = "send", description = "a --corpus line that is not a usable text (invalid UTF-8, "
            + "a NUL, a CSV row with the wrong number of fields, ...): send (its raw bytes, for the teacher to dead-letter with the "
            + "reason), skip (counted) or fail (before anything starts) (default: ${DEFAULT-VALUE})")
    String onBadLine;

    @Option(names = "--brokers", defaultValue = "1", description = "Kafka brokers: 1 in this JVM (default), or 3 or more, each its "
            + "own JVM, every topic replicated to all")
    int brokers;

    @Option(names = "--flink-cluster", paramLabel = "N", defaultValue = "0", description = "run the trainer's job on a Flink "
            + "session cluster of N TaskManagers (separate JVMs, started for the demo) instead of a MiniCluster in this JVM "
            + "(default: the MiniCluster)")
    int flinkTaskManagers;

    @Option(names = "--job-jar", paramLabel = "JAR", description = "with --flink-cluster: ship this job jar (mvn -Pjob-jar -pl "
            + "student-trainer -am package) instead of this installation's trainer jars")
    Path jobJar;

    @Option(names = "--object-store", description = "keep the student files on an S3-compatible object store (S3Proxy, a child JVM; "
            + "objects under --data-dir) instead of the data directory: the trainer writes s3:// through Flink's S3 plugin, the "
            + "monitor and the summary read them back (docs/serving.md, \"Artifacts on an object store\")")
    boolean objectStore;

    @Option(names = "--preset", defaultValue = "fast", description = "the student: fast (a bag of token embeddings), balanced "
            + "(the teacher's embeddings and last block, ~6x faster than the teacher) or quality (two of its blocks, ~3x faster); "
            + "--set changes any of its settings (default: ${DEFAULT-VALUE}; docs/student-trainer.md, \"Presets\")")
    String presetName;

    @Option(names = "--set", description = "trainer setting key=value, repeatable (e.g. --set training.learningRate=0.05); see docs/student-trainer.md")
    Map<String, String> trainerOverrides = new LinkedHashMap<>();

    private Preset preset() {
        return Preset.parse(presetName);
    }

    @Override
    public Integer call() throws Exception {
        validate();
        Instant started = Instant.now();
        if (fresh) {
            deleteTree(dataDir);
        }
        Files.createDirectories(dataDir);
        OnBadLine badLines = OnBadLine.parse(onBadLine, true);
        Corpus corpus = corpusFile == null ? Corpus.bundled() : Corpus.load(corpusFile, badLines, "--corpus");
        if (corpus.rows().isEmpty()) {
            throw new IllegalArgumentException("--corpus " + corpusFile + " holds no usable texts: " + corpus.badLinesReport(badLines));
        }
        String fileReport = corpus.badLinesReport(badLines);
        if (task == null) {
            task = corpus.labels().size() >= 2 ? "classification" : "embedding";
            if (corpus.labels().size() < 2) {
                System.out.printf("%s has %s, so the demo distils the teacher's embeddings (task embedding; --task chooses)%n",
                        corpus.source(), corpus.labels().isEmpty() ? "no labels" : "one label " + corpus.labels());
            }
        }
        boolean classification = task.equalsIgnoreCase("classification");
        if (classification && corpus.labels().size() < 2) {
            throw new IllegalArgumentException("--task classification needs a corpus with at least 2 labels; "
                    + corpus.source() + " has " + corpus.labels() + " (--task embedding distils its embeddings instead)");
        }
        int held = heldOut(corpus.rows().size(), evalTexts, corpus.source());
        List<Corpus.Row> eval = corpus.rows().subList(corpus.rows().size() - held, corpus.rows().size());
        List<Corpus.Row> stream = corpus.rows().subList(0, corpus.rows().size() - eval.size());
        System.out.printf("StreamDistill demo: %s, %d records at %d/s (or %s), task %s%n", corpus.source(), records, rate,
                duration, task);
        if (fileReport != null) {
            System.out.println("  " + fileReport);
        }

        // The Flink cluster's JVMs start while the stack and the teacher do. Logging is set up first: two threads
        // initialising SLF4J at once make it warn that early log lines were lost.
        org.slf4j.LoggerFactory.getILoggerFactory();
        java.util.concurrent.CompletableFuture<TrainerRuntime> flinkStart = flinkTaskManagers == 0
                ? java.util.concurrent.CompletableFuture.completedFuture(TrainerRuntime.local())
                : java.util.concurrent.CompletableFuture.supplyAsync(
                        () -> TrainerRuntime.cluster(dataDir.resolve("flink").toAbsolutePath(), flinkTaskManagers, jobJar));
        try (LocalStack stack = LocalStack.builder().dataDir(dataDir.resolve("stack")).brokerPort(kafkaPort)
                .registryPort(registryPort).secure(secure).brokers(brokers).objectStore(objectStore).topics(Topics.ALL, 1).build().start();
             TrainerRuntime flink = awaitFlink(flinkStart)) {
            System.out.println("  Flink:    " + flink.describe());
            System.out.println("  Kafka:    " + stack.bootstrapServers() + (secure ? " (SASL_SSL; a principal per component, ACLs)" : ""));
            System.out.println("  registry: " + stack.registryUrl());
            Map<String, String> objects = objectStore ? stack.objectStore().clientSettings() : Map.of();
            if (objectStore) {
                System.out.println("  objects:  " + stack.objectStore().uri("artifacts") + " on " + stack.objectStore().endpoint()
                        + " (S3Proxy)");
                ObjectStoreFileSystem.initialize(objects);
            }
            Map<String, String> monitorSettings = new HashMap<>(LocalStackCommand.clientFile(stack, BrokerSecurity.MONITOR));
            monitorSettings.putAll(objects);
            monitorSettings.putAll(Map.of("application.id", "streamdistill-demo-monitor", "http.port", String.valueOf(dashboardPort),
                    "state.dir", dataDir.resolve("monitor").toAbsolutePath().toString(),
                    "holdout.percent", "10", "window.seconds", "5", "window.grace.seconds", "2"));
            Monitor monitor = noDashboard ? null : Monitor.start(MonitorConfig.of(monitorSettings));
            System.out.println("  dashboard: " + (monitor == null ? "off (--no-dashboard)" : monitor.url()));
            System.out.println("  data dir: " + dataDir.toAbsolutePath());
            try {
                DemoTeacher.Choice head = null;
                TeacherDescriptor descriptor = BuiltInTeachers.ALL_MINILM_L6_V2.descriptor();
                if (classification) {
                    head = DemoTeacher.choose(stream, dataDir);
                    descriptor = head.descriptor();
                    System.out.println("  teacher head: " + head.head() + " (" + head.reason() + ")");
                    // What a later `finetune --data-dir` compares its student with.
                    descriptor.write(dataDir.resolve("teacher.json"));
                }
                Teacher teacher = Teacher.load(descriptor, 1, Teacher.Device.CPU, 0);
                Metrics teacherMetrics = new Metrics();
                Map<String, String> teacherSettings = new HashMap<>(LocalStackCommand.clientFile(stack, BrokerSecurity.TEACHER));
                teacherSettings.putAll(Map.of("http.port", "-1", "transactional.id", "streamdistill-demo-teacher"));
                // Soft targets also carry the pooled embedding, so a replay can try feature distillation
                // (--set training.featureBeta=1); the demo's own trainer leaves it off (measured no gain, docs/benchmarks.md).
                teacherSettings.put("output.pooled.embedding", String.valueOf(classification));
                if (adaptiveSampling) {
                    teacherSettings.put("sampling.enabled", "true");
                    teacherSettings.put("sampling.student", "demo-" + task.toLowerCase());
                }
                TeacherService service = new TeacherService(TeacherConfig.of(teacherSettings), teacher, teacherMetrics);
                Thread teacherLoop = new Thread(service, "demo-teacher");
                teacherLoop.start();

                Path checkpointsDir = dataDir.resolve("checkpoints").toAbsolutePath();
                Map<String, String> trainer = new HashMap<>(LocalStackCommand.clientFile(stack, BrokerSecurity.TRAINER));
                trainer.putAll(Map.of(
                        "student.name", "demo-" + task.toLowerCase(), "student.task", classification ? "CLASSIFICATION" : "EMBEDDING",
                        "artifact.dir", objectStore ? stack.objectStore().uri("artifacts") : checkpointsDir.toUri().toString(),
                        "export.every.records", "1000",
                        "export.every.seconds", String.valueOf(exportSeconds), "holdout.percent", "10",
                        "checkpoint.interval.ms", "5000", "starting.offsets", "committed"));
                trainer.put("transactional.id.prefix", "streamdistill-demo-trainer");
                // Each demo trains a new student (its --task or corpus may differ from the last run's).
                trainer.put("restore.from", "none");
                // The preset's settings, a general file's, the user's --set ones.
                Map<String, String> own = TeacherBlocks.layered(preset(), trainerOverrides);
                boolean transformer = "transformer".equalsIgnoreCase(own.getOrDefault("student.arch", "bag").trim());
                System.out.println("  student:  --preset " + preset().id() + ": " + preset().description()
                        + (trainerOverrides.isEmpty() ? "" : "; with --set " + trainerOverrides));
                if (transformer) {
                    // --set student.arch=transformer alone: DistilBERT's start, every other block of the teacher, at the
                    // small rate a student that starts as part of its teacher needs (the presets say the same).
                    own.putIfAbsent("student.init", Preset.TEACHER_INIT);
                    own.putIfAbsent("training.learningRate", "0.0003");
                } else if (TeacherBlocks.general(own)) {
                    // A bag general-distilled from the static table: the warm start's rate (TeacherBlocks adds the head).
                    trainer.put("training.learningRate", WarmStartFiles.DEFAULT_LEARNING_RATE);
                } else if (init.equals("static") && !own.containsKey("student.init")) {
                    int dim = Integer.parseInt(own.getOrDefault("student.embedding.dim", "" + WarmStartFiles.DEFAULT_DIM));
                    trainer.putAll(WarmStartFiles.prepare(teacher, dim, StaticDistillation.defaultCacheDir(), dataDir.toAbsolutePath(),
                            System.out, stream.stream().map(Corpus.Row::text).toList()).trainerSettings());
                    // Chosen across corpora for warm-started students (docs/benchmarks.md, "Student quality").
                    trainer.put("training.learningRate", WarmStartFiles.DEFAULT_LEARNING_RATE);
                } else {
                    // A randomly initialised student seeing a few thousand records once: a higher rate and no bigram
                    // table took held-out agreement from 0.66 to 0.89 at 3,000 records.
                    trainer.put("training.learningRate", "0.05");
                }
                if (classification) {
                    trainer.put("student.classes", String.join(",", teacher.classNames()));
                } else {
                    trainer.put("student.output.dim", String.valueOf(teacher.embeddingDim()));
                }
                trainer.putAll(own);
                trainer = new HashMap<>(TeacherBlocks.resolve(trainer, descriptor, teacher, dataDir));
                TrainerConfig trainerConfig = TrainerConfig.of(trainer);
                StreamExecutionEnvironment env = flink.environment(
                        StudentTrainerJob.configure(trainerConfig, dataDir.resolve("flink-checkpoints").toAbsolutePath().toUri().toString()));
                StudentTrainerJob.enableCheckpointing(env, trainerConfig);
                StudentTrainerJob.createSyncTopic(trainerConfig);
                StudentTrainerJob.build(env, trainerConfig);
                // Watching before the job starts: a warm-started student's first version comes at once.
                SchemaRegistryClient registry = registry(stack, BrokerSecurity.PRODUCER);
                CheckpointWatcher watcher = new CheckpointWatcher(kafka(stack, BrokerSecurity.SERVE), registry(stack, BrokerSecurity.SERVE));
                watcher.start();
                JobClient job = env.executeAsync("streamdistill-demo");

                long productionStart = System.nanoTime();
                Produced sent = produce(stack, registry, corpus, stream, badLines, teacherMetrics, watcher);
                long produced = sent.records();
                System.out.println("producing done; waiting for the teacher and a final student checkpoint...");
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (handled(teacherMetrics) < produced && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                long teacherDone = System.nanoTime();
                StudentCheckpoint before = watcher.last.get();
                long waitCheckpoint = System.nanoTime() + Duration.ofSeconds(exportSeconds + 30L).toNanos();
                // A version newer than the one current when the teacher finished, and trained on records: a warm start's
                // version 1 (trained on none) can arrive after a short run's last record and is not the final student.
                while (System.nanoTime() < waitCheckpoint && (watcher.last.get() == null || watcher.last.get() == before
                        || watcher.last.get().getRecordsSeen() == 0)) {
                    Thread.sleep(200);
                }
                progress(produced, teacherMetrics, watcher.last.get(), started);
                job.cancel().get();
                service.close();
                watcher.stop();

                double teacherRate = handled(teacherMetrics) / ((teacherDone - productionStart) / 1e9);
                DemoSummary summary;
                try (ArtifactReader artifacts = ArtifactReader.fromSettings(objects)) {
                    summary = DemoSummary.summarize(produced, teacherMetrics, teacherRate, watcher, teacher, eval, classification, started,
                            artifacts);
                }
                summary.addLines(corpus, sent, badLines, eval.size(), stream.size());
                summary.addFlink(flink.summary(job), trainerConfig.integer("train.parallelism"));
                if (head != null) {
                    summary.addTeacherHead(head);
                }
                if (monitor != null) {
                    summary.addMonitor(monitor);
                }
                teacher.close();
                summary.print();
                Files.writeString(dataDir.resolve("summary.json"), summary.toJson());
                System.out.println("wrote " + dataDir.resolve("summary.json").toAbsolutePath());
                if (monitor != null && !linger.isZero()) {
                    System.out.println("the dashboard stays up for " + linger + " at " + monitor.url() + " (Ctrl-C ends it)");
                    try {
                        Thread.sleep(linger.toMillis());
                    } catch (InterruptedException stop) {
                        System.out.println("stopping the dashboard");
                    }
                }
            } finally {
                if (monitor != null) {
                    monitor.close();
                }
            }
        }
        return 0;
    }

    /** The trainer's runtime once it has started; a failed cluster start surfaces as its own error. */
    private static TrainerRuntime awaitFlink(java.util.concurrent.CompletableFuture<TrainerRuntime> start) {
        try {
            return start.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * How many of the corpus's last rows the summary holds out of the stream: {@code evalTexts}, or a fifth of a
     * corpus of fewer than twice as many rows (said in one line), so that the stream keeps most of a small corpus.
     */
    static int heldOut(int rows, int evalTexts, String source) {
        if (rows < 2) {
            throw new IllegalArgumentException(source + " has " + rows + " usable text; the demo needs at least 2 (texts to"
                    + " stream and texts to hold out for the summary)");
        }
        if (2 * evalTexts <= rows) {
            return evalTexts;
        }
        int held = Math.max(1, rows / 5);
        System.out.printf("%s has %d texts, fewer than twice --eval-texts %d: holding out %d (a fifth) for the summary%n", source,
                rows, evalTexts, held);
        return held;
    }

    private void validate() {
        if (flinkTaskManagers < 0) {
            throw new IllegalArgumentException("--flink-cluster must be a number of TaskManagers >= 1 (0: the local MiniCluster), got "
                    + flinkTaskManagers);
        }
        if (jobJar != null && flinkTaskManagers == 0) {
            throw new IllegalArgumentException("--job-jar goes with --flink-cluster N");
        }
        if (objectStore && flinkTaskManagers > 0) {
            throw new IllegalArgumentException("--object-store runs with the local MiniCluster only: a Flink cluster's TaskManagers"
                    + " take the S3 plugin and s3.* settings from their own plugins/ and config.yaml");
        }
        preset();
        if (!init.equals("static") && !init.equals("random")) {
            throw new IllegalArgumentException("--init must be static or random, got '" + init + "'");
        }
        if (records < 1) {
            throw new IllegalArgumentException("--records must be >= 1, got " + records);
        }
        if (rate < 1 || rate > 100_000) {
            throw new IllegalArgumentException("--rate must be in 1..100000 records/s, got " + rate);
        }
        if (evalTexts < 1) {
            throw new IllegalArgumentException("--eval-texts must be >= 1, got " + evalTexts);
        }
        if (task != null && !task.equalsIgnoreCase("classification") && !task.equalsIgnoreCase("embedding")) {
            throw new IllegalArgumentException("--task must be classification or embedding, got '" + task + "'");
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("--duration must be positive, got " + duration);
        }
        if (linger.isNegative()) {
            throw new IllegalArgumentException("--linger must not be negative, got " + linger);
        }
        if (dashboardPort < 0 || dashboardPort > 65535) {
            throw new IllegalArgumentException("--dashboard-port must be in 0..65535, got " + dashboardPort);
        }
    }


    /** Kafka client settings of a principal (on a plaintext stack: only the address). */
    private static Map<String, Object> kafka(LocalStack stack, String principal) {
        Map<String, Object> m = new HashMap<>(stack.clientSettings(principal));
        m.put("bootstrap.servers", stack.bootstrapServers());
        return m;
    }

    private static SchemaRegistryClient registry(LocalStack stack, String principal) {
        Map<String, Object> m = new HashMap<>(stack.registrySettings(principal));
        m.put("schema.registry.url", stack.registryUrl());
        return new SchemaRegistryClient(RegistryConfig.fromMap(m));
    }

    /** What the demo sent: records in all; of them texts and bad lines; and bad lines refused as too long for a record. */
    record Produced(long records, long texts, long badSent, long refused) {
    }

    private Produced produce(LocalStack stack, SchemaRegistryClient registry, Corpus corpus, List<Corpus.Row> rows, OnBadLine policy,
                             Metrics teacherMetrics, CheckpointWatcher watcher) throws Exception {
        AvroSerializer<TextEvent> serializer = new AvroSerializer<>(registry);
        String run = Long.toString(System.currentTimeMillis(), 36);
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        long lastProgress = start;
        long n = 0;
        long badSent = 0;
        long refused = 0;
        Map<String, Object> config = kafka(stack, BrokerSecurity.PRODUCER);
        config.putAll(Map.of("acks", "all", "linger.ms", "5"));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            if (policy == OnBadLine.SEND) {
                // Bad lines go first, once each: the teacher dead-letters them with their reason.
                for (TextFile.Bad bad : corpus.contents().bad()) {
                    if (bad.tooLong()) {
                        System.out.println("  refused: " + bad.describe(corpus.source()));
                        refused++;
                    } else {
                        producer.send(TextRecords.badLine(Topics.TEXT, "demo-" + run + "-line-" + bad.line(), bad, corpus.source()));
                        badSent++;
                    }
                }
            }
            while (n < records && System.nanoTime() < end) {
                Corpus.Row row = rows.get((int) (n % rows.size()));
                producer.send(TextRecords.text(Topics.TEXT, serializer, "demo-" + run + "-" + n, row.text(), row.label(), "demo"));
                n++;
                long due = start + n * 1_000_000_000L / rate;
                long now = System.nanoTime();
                if (due > now) {
                    Thread.sleep((due - now) / 1_000_000, (int) ((due - now) % 1_000_000));
                }
                if (now - lastProgress > 2_000_000_000L) {
                    lastProgress = now;
                    progress(n + badSent, teacherMetrics, watcher.last.get(), null);
                }
            }
            producer.flush();
        }
        return new Produced(n + badSent, n, badSent, refused);
    }

    /** Input records the teacher service is done with: soft targets, dead letters and (adaptive sampling) skips. */
    private static long handled(Metrics m) {
        return m.softTargets() + m.deadLetters() + m.skipped();
    }

    private static void progress(long produced, Metrics m, StudentCheckpoint last, Instant started) {
        String student = last == null ? "no checkpoint yet"
                : last.getRecordsSeen() == 0 ? String.format("v%d (warm start, trained on 0 records)", last.getVersion())
                : String.format("v%d loss %.3f holdout %.3f", last.getVersion(), last.getMetrics().getOrDefault("progressive_loss", Double.NaN),
                        last.getMetrics().getOrDefault("holdout_agreement", Double.NaN));
        System.out.printf("  in %6d | soft targets %6d | dead letters %3d | skipped %5d | teacher %5.1f rec/s | student %s%n",
                produced, m.softTargets(), m.deadLetters(), m.skipped(), m.recordsPerSecond(), student);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

}
