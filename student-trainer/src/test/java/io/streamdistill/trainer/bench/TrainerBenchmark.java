package io.streamdistill.trainer.bench;

import io.streamdistill.localstack.LocalStack;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.records.Task;
import io.streamdistill.records.TeacherRef;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.student.bench.SyntheticText;
import io.streamdistill.student.tokenize.MiniLmFiles;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Rng;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.trainer.StudentTrainerJob;
import io.streamdistill.trainer.TrainerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The student-trainer benchmark. (1) Throughput: the bounded job over a pre-filled topic of
 * classification soft targets vs student-model's in-memory loop (tokenise + train) over the same
 * records. (2) Freshness: with the default export cadence (5,000 records or 60 s), soft targets
 * produced at a steady rate; p50/p95 of the time from a record's arrival to the first published
 * checkpoint that trained on it, as the job reports them in each checkpoint record. Prints a table
 * and writes {@code target/benchmarks/student-trainer.json}.
 *
 * <pre>mvn -DskipTests install && mvn -pl student-trainer exec:java@benchmark</pre>
 */
public final class TrainerBenchmark {
    private static final List<String> CLASSES = List.of("a", "b", "c", "d");

    public static void main(String[] args) throws Exception {
        int n = Integer.getInteger("bench.records", 20000);
        int rate = Integer.getInteger("bench.rate", 200);
        int freshnessSeconds = Integer.getInteger("bench.freshness.seconds", 150); // 0: throughput only
        String featurizeParallelism = System.getProperty("bench.featurize.parallelism", "2");
        // Training subtasks to compare on an unbounded job over the same records; blank skips it.
        String parallelisms = System.getProperty("bench.train.parallelism", "1,2");
        Path work = Files.createTempDirectory("trainer-bench");
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("date", Instant.now().toString());
        // N, or N:BITS for sync.delta.bits (default 8): e.g. 1,2,2:32 compares 8- and 32-bit moves at N=2.
        List<int[]> runs = new ArrayList<>();
        List<String> topics = new ArrayList<>(List.of("bench-soft", "bench-live", "bench-ckpt", "bench-live-ckpt"));
        for (String p : parallelisms.isBlank() ? new String[0] : parallelisms.split(",")) {
            String[] nb = p.trim().split(":");
            int[] run = {Integer.parseInt(nb[0]), nb.length > 1 ? Integer.parseInt(nb[1]) : 8};
            runs.add(run);
            topics.add("bench-ckpt-" + runName(run[0], run[1]));
        }
        try (LocalStack stack = LocalStack.builder().topics(topics, 1).build().start();
             TextTokenizer tok = TextTokenizer.load(MiniLmFiles.tokenizer(), "all-MiniLM-L6-v2", 128)) {
            SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.builder(stack.registryUrl()).build());
            List<String> texts = SyntheticText.sentences(MiniLmFiles.tokenizer(), n, 22, 5, 5000);
            // A fixed random teacher over token bags (learnable, so holdout agreement means something; speed does not care).
            List<float[]> logits = teacherLogits(tok, texts);
            long softTargetBytes = produce(stack, registry, "bench-soft", texts, logits, 0);

            // (1a) in-memory: tokenise + train, one thread, same config; a first pass over a quarter warms the JIT up
            TrainerConfig memConfig = config(stack, work, "bench-soft", "bench-ckpt", Map.of());
            inMemory(memConfig, tok, texts.subList(0, n / 4), logits);
            double memory = inMemory(memConfig, tok, texts, logits);

            // (1b) the job, bounded over the same records
            TrainerConfig jobConfig = config(stack, work, "bench-soft", "bench-ckpt",
                    Map.of("bounded.end", "latest", "starting.offsets", "earliest", "holdout.percent", "0",
                            "featurize.parallelism", featurizeParallelism));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(Integer.parseInt(featurizeParallelism),
                    StudentTrainerJob.configure(jobConfig, work.resolve("flink").toUri().toString()));
            StudentTrainerJob.enableCheckpointing(env, jobConfig);
            StudentTrainerJob.build(env, jobConfig);
            long cpuBefore = processCpuNanos();
            JobExecutionResult result = env.execute("bench-throughput");
            double cpuPerThousand = (processCpuNanos() - cpuBefore) / 1e9 / n * 1000;
            double job = n / (result.getNetRuntime() / 1000.0);
            // Steady state: records trained between the first and the last version, over the time between them.
            List<StudentCheckpoint> versions = read(stack, registry, "bench-ckpt");
            StudentCheckpoint first = versions.get(0);
            StudentCheckpoint last = versions.get(versions.size() - 1);
            double steady = (last.getRecordsSeen() - first.getRecordsSeen())
                    / ((last.getCreatedAt().toEpochMilli() - first.getCreatedAt().toEpochMilli()) / 1000.0);
            results.put("throughput_records_per_s", Map.of("job end to end (bounded, incl. start-up)", job,
                    "job steady state (first to last version)", steady, "in-memory tokenise + train", memory));
            results.put("job_vs_memory", job / memory);
            results.put("steady_vs_memory", steady / memory);
            results.put("featurize_parallelism", featurizeParallelism);
            results.put("cpu_seconds_per_1000_records", cpuPerThousand);
            results.put("soft_target_bytes_per_record", (double) softTargetBytes / n);
            System.out.printf("%nStreamDistill student-trainer benchmark — %s%n%d soft targets, 4 classes, ~24 tokens, "
                    + "student d=64 + 64k bigrams%n%n", results.get("date"), n);
            System.out.printf("| %-60s | %10s |%n|%s|%s|%n", "throughput", "records/s", "-".repeat(62), "-".repeat(12));
            System.out.printf("| %-60s | %,10.0f |%n", "job end to end (bounded, incl. start-up), featurize x" + featurizeParallelism, job);
            System.out.printf("| %-60s | %,10.0f |%n", "job steady state (" + versions.size() + " versions, first to last)", steady);
            System.out.printf("| %-60s | %,10.0f |%n", "in-memory tokenise + train (one thread, warmed up)", memory);
            System.out.printf("| %-60s | %10.2f |%n", "job end to end / in-memory", job / memory);
            System.out.printf("| %-60s | %10.2f |%n", "job steady state / in-memory", steady / memory);
            System.out.printf("%nCPU-seconds per 1,000 records (the whole JVM while the job ran, broker included): %.3f%n"
                    + "soft-target bytes per record on the topic (registry framing + Avro): %.0f%n", cpuPerThousand,
                    (double) softTargetBytes / n);

            if (!runs.isEmpty()) {
                List<Map<String, Object>> parallel = new ArrayList<>();
                System.out.printf("%n| %-44s | %9s | %9s | %9s | %10s | %12s |%n|%s|%s|%s|%s|%s|%s|%n", "unbounded job, checkpoints every " + System.getProperty("bench.checkpoint.ms", "2000") + " ms",
                        "to all, s", "steady/s", "CPU-s/1k", "agreement", "sync/soft B", "-".repeat(46), "-".repeat(11), "-".repeat(11),
                        "-".repeat(11), "-".repeat(12), "-".repeat(14));
                for (int[] run : runs) {
                    parallel.add(unbounded(stack, registry, work, n, run[0], run[1], featurizeParallelism, softTargetBytes));
                }
                results.put("parallel", parallel);
            }
            if (freshnessSeconds > 0) {
                freshness(stack, registry, work, texts, logits, rate, freshnessSeconds, results);
            }
        }
        Path out = Path.of("target", "benchmarks", "student-trainer.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                .writeValueAsString(results));
        System.out.println("\nwrote " + out.toAbsolutePath());
        System.exit(0);
    }

    /**
     * The job unbounded over the pre-filled topic at {@code parallelism} training subtasks (5 % held out,
     * checkpoints every 2 s): time until a version covers every training record, steady rate between
     * the first and last version, CPU, holdout agreement of that version, and sync bytes against the
     * soft targets' bytes.
     */
    private static Map<String, Object> unbounded(LocalStack stack, SchemaRegistryClient registry, Path work, int n, int parallelism,
                                                 int deltaBits, String featurizeParallelism, long softTargetBytes) throws Exception {
        String run = runName(parallelism, deltaBits);
        String out = "bench-ckpt-" + run;
        TrainerConfig config = config(stack, work, "bench-soft", out, Map.ofEntries(Map.entry("starting.offsets", "earliest"),
                Map.entry("holdout.percent", "5"), Map.entry("featurize.parallelism", featurizeParallelism),
                Map.entry("train.parallelism", String.valueOf(parallelism)), Map.entry("sync.delta.bits", String.valueOf(deltaBits)),
                Map.entry("checkpoint.interval.ms", System.getProperty("bench.checkpoint.ms", "2000")), Map.entry("export.every.seconds", "2"), Map.entry("group.id", "bench-" + run),
                Map.entry("transactional.id.prefix", "bench-" + run),
                Map.entry("artifact.dir", work.resolve("artifacts-" + run).toUri().toString())));
        long trainable = 0;
        for (int i = 0; i < n; i++) {
            trainable += io.streamdistill.student.train.HoldoutSlice.contains("b-" + i, 5) ? 0 : 1;
        }
        StudentTrainerJob.createSyncTopic(config);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(Math.max(parallelism,
                Integer.parseInt(featurizeParallelism)), StudentTrainerJob.configure(config, work.resolve("flink-" + run)
                .toUri().toString()));
        StudentTrainerJob.enableCheckpointing(env, config);
        StudentTrainerJob.build(env, config);
        long cpuBefore = processCpuNanos();
        long started = System.currentTimeMillis();
        JobClient job = env.executeAsync("bench-" + run);
        List<StudentCheckpoint> versions = List.of();
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (System.nanoTime() < deadline) {
            versions = read(stack, registry, out);
            if (!versions.isEmpty() && versions.get(versions.size() - 1).getRecordsSeen() >= trainable) {
                break;
            }
        }
        double cpu = (processCpuNanos() - cpuBefore) / 1e9;
        job.cancel().get();
        if (versions.isEmpty()) {
            throw new IllegalStateException("train.parallelism=" + parallelism + ": no version published to " + out + " in 5 minutes");
        }
        StudentCheckpoint first = versions.get(0);
        StudentCheckpoint last = versions.get(versions.size() - 1);
        double toAll = (last.getCreatedAt().toEpochMilli() - started) / 1000.0;
        double steady = (last.getRecordsSeen() - first.getRecordsSeen())
                / ((last.getCreatedAt().toEpochMilli() - first.getCreatedAt().toEpochMilli()) / 1000.0);
        double sync = last.getMetrics().getOrDefault("sync_bytes_total", 0.0);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("train_parallelism", parallelism);
        r.put("sync_delta_bits", parallelism > 1 ? deltaBits : null);
        r.put("seconds_to_every_record", toAll);
        r.put("steady_records_per_s", steady);
        r.put("cpu_seconds_per_1000_records", cpu / n * 1000);
        r.put("records_trained", last.getRecordsSeen());
        r.put("trainable_records", trainable);
        r.put("holdout_agreement", last.getMetrics().get("holdout_agreement"));
        r.put("sync_bytes", sync);
        r.put("sync_vs_soft_target_bytes", sync / softTargetBytes);
        System.out.printf("| %-44s | %9.1f | %,9.0f | %9.3f | %10.4f | %12.2f |%n", "train.parallelism=" + parallelism
                        + (parallelism > 1 ? " (" + deltaBits + "-bit)" : "") + ", " + versions.size() + " versions, " + last.getRecordsSeen() + "/" + trainable, toAll, steady, cpu / n * 1000,
                last.getMetrics().get("holdout_agreement"), sync / softTargetBytes);
        return r;
    }

    private static String runName(int parallelism, int deltaBits) {
        return "p" + parallelism + "-b" + deltaBits;
    }

    /** Logits of a fixed random bag-of-tokens teacher (4 classes) for each text. */
    private static List<float[]> teacherLogits(TextTokenizer tok, List<String> texts) {
        Rng rng = new Rng(9);
        int dim = 8;
        float[] vectors = new float[tok.vocabSize() * dim];
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = (float) rng.nextGaussian();
        }
        float[] head = new float[CLASSES.size() * dim];
        for (int i = 0; i < head.length; i++) {
            head[i] = (float) rng.nextGaussian();
        }
        List<float[]> out = new ArrayList<>();
        for (int[] ids : tok.encode(texts)) {
            float[] logits = new float[CLASSES.size()];
            for (int k = 0; k < logits.length; k++) {
                for (int id : ids) {
                    for (int j = 0; j < dim; j++) {
                        logits[k] += 4f * head[k * dim + j] * vectors[id * dim + j] / ids.length;
                    }
                }
            }
            out.add(logits);
        }
        return out;
    }

    /** Tokenise + train on one thread, as the job's operators do, without Flink or Kafka: records/s. */
    private static double inMemory(TrainerConfig config, TextTokenizer tok, List<String> texts, List<float[]> logits) {
        StudentTrainer trainer = StudentTrainer.create(config.studentConfig(tok.vocabSize()), config.trainingConfig());
        int n = texts.size();
        long t0 = System.nanoTime();
        List<Example> batch = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            batch.add(new Example(tok.encode(texts.get(i)), logits.get(i), -1));
            if (batch.size() == 32) {
                trainer.train(batch);
                batch.clear();
            }
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    /** (2) freshness at the default cadence with a steady producer. */
    private static void freshness(LocalStack stack, SchemaRegistryClient registry, Path work, List<String> texts,
                                  List<float[]> logits, int rate, int freshnessSeconds, Map<String, Object> results)
            throws Exception {
        int n = texts.size();
        int parallelism = Integer.getInteger("bench.freshness.parallelism", 1);
        TrainerConfig liveConfig = config(stack, work, "bench-live", "bench-live-ckpt", Map.of("holdout.percent", "5",
                "train.parallelism", String.valueOf(parallelism), "bounded.end", "none"));
        StudentTrainerJob.createSyncTopic(liveConfig);
        StreamExecutionEnvironment live = StreamExecutionEnvironment.createLocalEnvironment(parallelism,
                StudentTrainerJob.configure(liveConfig, work.resolve("flink-live").toUri().toString()));
        StudentTrainerJob.enableCheckpointing(live, liveConfig);
        StudentTrainerJob.build(live, liveConfig);
        JobClient client = live.executeAsync("bench-freshness");
        long end = System.nanoTime() + Duration.ofSeconds(freshnessSeconds).toNanos();
        int i = 0;
        while (System.nanoTime() < end) {
            long tick = System.nanoTime();
            List<String> t = new ArrayList<>();
            List<float[]> l = new ArrayList<>();
            for (int k = 0; k < rate; k++, i++) {
                t.add(texts.get(i % n));
                l.add(logits.get(i % n));
            }
            produce(stack, registry, "bench-live", t, l, i);
            Thread.sleep(Math.max(0, 1000 - (System.nanoTime() - tick) / 1_000_000));
        }
        Thread.sleep(5000);
        client.cancel().get();
        List<StudentCheckpoint> published = read(stack, registry, "bench-live-ckpt");
        List<Double> p50 = new ArrayList<>();
        List<Double> p95 = new ArrayList<>();
        for (StudentCheckpoint c : published) {
            if (c.getMetrics().containsKey("freshness_p50_ms")) {
                p50.add(c.getMetrics().get("freshness_p50_ms"));
                p95.add(c.getMetrics().get("freshness_p95_ms"));
            }
        }
        results.put("freshness", Map.of("rate_records_per_s", rate, "seconds", freshnessSeconds,
                "train_parallelism", parallelism, "published_versions", published.size(), "p50_ms_per_version", p50, "p95_ms_per_version", p95));

        System.out.printf("%nfreshness at %d records/s, default cadence, train.parallelism=%d, %d published versions:%n"
                + "  p50 per version (ms): %s%n  p95 per version (ms): %s%n", rate, parallelism, published.size(), p50, p95);
    }

    private static TrainerConfig config(LocalStack stack, Path work, String in, String out, Map<String, String> extra) {
        Map<String, String> s = new HashMap<>(Map.of("bootstrap.servers", stack.bootstrapServers(),
                "schema.registry.url", stack.registryUrl(), "input.topic", in, "output.topic", out,
                "group.id", "bench-" + in, "student.classes", String.join(",", CLASSES), "student.bigram.buckets", "65536",
                "artifact.dir", work.resolve("artifacts-" + in).toUri().toString(), "transactional.id.prefix", "bench-" + in));
        s.putAll(extra);
        return TrainerConfig.of(s);
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** Produces the records and returns the bytes of their values. */
    private static long produce(LocalStack stack, SchemaRegistryClient registry, String topic, List<String> texts,
                                List<float[]> logits, int offset) throws Exception {
        long bytes = 0;
        AvroSerializer<SoftTarget> serializer = new AvroSerializer<>(registry);
        TeacherRef ref = TeacherRef.newBuilder().setModelId("bench").setSha256("").setTokenizer("").build();
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", stack.bootstrapServers(),
                "linger.ms", "5"), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < texts.size(); i++) {
                List<Float> l = new ArrayList<>();
                for (float f : logits.get(i)) {
                    l.add(f);
                }
                String id = "b-" + (offset + i);
                SoftTarget st = SoftTarget.newBuilder().setId(id).setText(texts.get(i)).setLabel(null).setEventTime(Instant.now())
                        .setTeacher(ref).setTask(Task.CLASSIFICATION).setClassLogits(l).setEmbedding(null).setLanguageModel(null)
                        .setInputTokens(24).setTruncated(false).setTeacherLatencyMicros(0).setProducedAt(Instant.now()).build();
                byte[] value = serializer.serialize(topic, st);
                bytes += value.length;
                p.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), value));
            }
        }
        return bytes;
    }

    private static List<StudentCheckpoint> read(LocalStack stack, SchemaRegistryClient registry, String topic) {
        AvroDeserializer<StudentCheckpoint> d = new AvroDeserializer<>(registry, StudentCheckpoint.class);
        List<StudentCheckpoint> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", stack.bootstrapServers(),
                "group.id", "bench-read", "auto.offset.reset", "earliest", "isolation.level", "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r -> out.add(d.deserialize(topic, r.value())));
            }
        }
        return out;
    }

    private TrainerBenchmark() {
    }
}
