package io.streamdistill.flinksql;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.streamdistill.localstack.LocalStack;
import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.serving.CheckpointFollower;
import io.streamdistill.serving.FollowedStudent;
import io.streamdistill.serving.ServedModel;
import io.streamdistill.serving.StudentVersions;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.onnx.OnnxExporter;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Rng;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;

/**
 * The Flink SQL provider's throughput against serve's in-process inference, for the same student (the
 * default bag's shape: 128-wide token table, 4 classes) on the same texts, one text at a time, one
 * ONNX Runtime thread each: {@code ServedModel.score} in a loop (what serve does per text), then an
 * {@code ML_PREDICT} job at parallelism 1 over a bounded stream of the same texts into a blackhole sink, less
 * the same job without {@code ML_PREDICT} (Flink's start-up, source and sink). One run, the ratio printed and written.
 *
 * <pre>mvn -DskipTests install && mvn -pl flink-sql exec:exec@provider-benchmark [-Dbench.texts=100000]</pre>
 */
public final class ProviderBenchmark {

    public static void main(String[] args) throws Exception {
        int n = Integer.getInteger("bench.texts", 100_000);
        Path out = Files.isDirectory(Path.of("flink-sql")) ? Path.of("flink-sql/target/benchmarks") : Path.of("target/benchmarks");
        Files.createDirectories(out);
        List<String> texts = texts(n);
        LocalStack stack = SharedLocalStack.get();
        String topic = SharedLocalStack.newTopic("bench-checkpoints", 1);
        try (TextTokenizer tokenizer = StudentTokenizers.load("all-MiniLM-L6-v2", 128)) {
            SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.builder(stack.registryUrl()).build());
            StudentVersions versions = new StudentVersions(out.resolve("students"), tokenizer);
            StudentConfig config = StudentConfig.builder().task(Task.CLASSIFICATION).vocabSize(tokenizer.vocabSize()).embeddingDim(128)
                    .classNames(StudentVersions.CLASSES).seed(3).build();
            StudentTrainer t = StudentTrainer.create(config, TrainingConfig.defaults());
            Rng rng = new Rng(3);
            for (float[] p : t.student().parameters()) {
                for (int i = 0; i < p.length; i++) {
                    p[i] = (float) (rng.nextGaussian() * 0.1);
                }
            }
            StudentCheckpoint cp = versions.checkpoint("bench", 1, OnnxExporter.export(t.student(),
                    new OnnxExporter.Metadata(tokenizer.id(), 1)), config.describe());
            StudentVersions.publish(registry, topic, cp);
            Map<String, String> clients = Map.of("bootstrap.servers", stack.bootstrapServers(), "schema.registry.url", stack.registryUrl());

            // serve's in-process inference: one text per call, the version leased from the holder as a request does.
            double inProcess;
            try (FollowedStudent followed = new FollowedStudent(new CheckpointFollower.Settings(clients, topic, "bench", null),
                    "all-MiniLM-L6-v2")) {
                ServedModel m = followed.awaitFirstVersion(Duration.ofSeconds(60), "bench");
                for (int i = 0; i < Math.min(2000, n); i++) {
                    m.score(List.of(texts.get(i)));
                }
                long t0 = System.nanoTime();
                for (String text : texts) {
                    m.score(List.of(text));
                }
                inProcess = n / ((System.nanoTime() - t0) / 1e9);
            }

            // The provider: ML_PREDICT at parallelism 1 over the same texts.
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(1);
            StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);
            // A stream of the texts (a VALUES clause of 20,000 literals would make a plan of that size).
            tEnv.createTemporaryView("texts", tEnv.fromDataStream(env.fromData(texts)).as("text"));
            tEnv.executeSql("CREATE MODEL m INPUT (text STRING) OUTPUT (label STRING, version BIGINT) WITH ('provider' = 'streamdistill',"
                    + " 'student' = 'bench', 'bootstrap.servers' = '" + stack.bootstrapServers() + "', 'schema.registry.url' = '"
                    + stack.registryUrl() + "', 'checkpoints.topic' = '" + topic + "')");
            // Each job writes to a blackhole: its time is Flink's and the provider's, not a client fetching results. The same job
            // without ML_PREDICT is Flink's own cost (start-up, source, sink), taken off. Each timed twice after a warm-up run.
            tEnv.executeSql("CREATE TABLE passed (text STRING) WITH ('connector' = 'blackhole')");
            tEnv.executeSql("CREATE TABLE answered (label STRING, version BIGINT) WITH ('connector' = 'blackhole')");
            Job alone = () -> tEnv.executeSql("INSERT INTO passed SELECT text FROM texts").await();
            Job predicting = () -> tEnv.executeSql("INSERT INTO answered SELECT label, version FROM ML_PREDICT(TABLE texts, MODEL m,"
                    + " DESCRIPTOR(text))").await();
            seconds(alone); // the JVM's first job pays for class loading and JIT: not counted
            seconds(predicting);
            double flinkAlone = (seconds(alone) + seconds(alone)) / 2;
            double withProvider = (seconds(predicting) + seconds(predicting)) / 2;
            double provider = n / (withProvider - flinkAlone);
            int answered = n;
            double ratio = provider / inProcess;
            System.out.printf("%n%-44s %12s%n", "one text at a time, 1 ONNX Runtime thread", "texts/s");
            System.out.printf("%-44s %12.0f%n", "serve's in-process inference (ServedModel)", inProcess);
            System.out.printf("%-44s %12.0f   (job %.1f s, the same job without ML_PREDICT %.1f s)%n",
                    "Flink SQL ML_PREDICT (provider, parallelism 1)", provider, withProvider, flinkAlone);
            System.out.printf("%-44s %12.2f   (target >= 0.80; %d texts, %d answered)%n", "ratio", ratio, n, answered);
            // Swap latency: a streaming job over a Kafka table while texts arrive every 10 ms; each new version's
            // delay from its checkpoint record to the first row it answers.
            List<Double> swaps = swapLatencies(tEnv, registry, versions, tokenizer, config, topic, Integer.getInteger("bench.swaps", 10));
            List<Double> sorted = swaps.stream().sorted().toList();
            double p50 = sorted.get(sorted.size() / 2);
            double p95 = sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(0.95 * sorted.size()) - 1));
            System.out.printf("%-44s %12.2f s p50, %.2f s p95, %.2f s max over %d versions (target p95 <= 10 s)%n",
                    "a new version answering in the running job", p50, p95, sorted.get(sorted.size() - 1), sorted.size());
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("swap_latency_seconds", swaps);
            result.put("swap_latency_p95_seconds", p95);
            result.put("date", Instant.now().toString());
            result.put("texts", n);
            result.put("answered", answered);
            result.put("in_process_texts_per_second", inProcess);
            result.put("provider_texts_per_second", provider);
            result.put("job_seconds", withProvider);
            result.put("job_without_ml_predict_seconds", flinkAlone);
            result.put("ratio", ratio);
            Files.writeString(out.resolve("provider.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(result));
        }
        System.exit(0);
    }

    /** Seconds from each new version's record to the first row it answered in a running ML_PREDICT job over a Kafka table. */
    static List<Double> swapLatencies(StreamTableEnvironment tEnv, SchemaRegistryClient registry, StudentVersions versions,
                                      TextTokenizer tokenizer, StudentConfig config, String checkpoints, int count) throws Exception {
        String texts = SharedLocalStack.newTopic("bench-texts", 1);
        String bootstrap = SharedLocalStack.get().bootstrapServers();
        tEnv.executeSql("CREATE TABLE stream_texts (id STRING, text STRING) WITH ('connector' = 'kafka', 'topic' = '" + texts + "',"
                + " 'properties.bootstrap.servers' = '" + bootstrap + "', 'properties.group.id' = 'bench', 'scan.startup.mode' ="
                + " 'latest-offset', 'key.format' = 'raw', 'key.fields' = 'id', 'value.format' = 'raw', 'value.fields-include' = 'EXCEPT_KEY')");
        java.util.concurrent.ConcurrentHashMap<Long, Long> firstAnswer = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread producer = new Thread(() -> {
            try (org.apache.kafka.clients.producer.KafkaProducer<String, String> p = new org.apache.kafka.clients.producer.KafkaProducer<>(
                    Map.of("bootstrap.servers", bootstrap, "linger.ms", "0"), new org.apache.kafka.common.serialization.StringSerializer(),
                    new org.apache.kafka.common.serialization.StringSerializer())) {
                for (long i = 0; !stop.get(); i++) {
                    p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(texts, "t-" + i, "a small furry animal " + i));
                    Thread.sleep(10);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bench-producer");
        producer.start();
        List<Double> latencies = new ArrayList<>();
        try (org.apache.flink.util.CloseableIterator<org.apache.flink.types.Row> rows = tEnv.executeSql("SELECT version FROM"
                + " ML_PREDICT(TABLE stream_texts, MODEL m, DESCRIPTOR(text))").collect()) {
            Thread reader = new Thread(() -> {
                while (rows.hasNext()) {
                    long v = rows.next().<Long>getFieldAs("version");
                    firstAnswer.putIfAbsent(v, System.nanoTime());
                }
            }, "bench-reader");
            reader.setDaemon(true);
            reader.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!firstAnswer.containsKey(1L) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            for (long v = 2; v < 2 + count; v++) {
                StudentTrainer t = StudentTrainer.create(config, TrainingConfig.defaults());
                StudentCheckpoint cp = versions.checkpoint("bench", v, OnnxExporter.export(t.student(),
                        new OnnxExporter.Metadata(tokenizer.id(), v)), config.describe());
                long published = System.nanoTime();
                StudentVersions.publish(registry, checkpoints, cp);
                long wait = published + Duration.ofSeconds(60).toNanos();
                while (!firstAnswer.containsKey(v) && System.nanoTime() < wait) {
                    Thread.sleep(5);
                }
                if (!firstAnswer.containsKey(v)) {
                    throw new IllegalStateException("version " + v + " did not answer within 60 s");
                }
                latencies.add((firstAnswer.get(v) - published) / 1e9);
                Thread.sleep(1000);
            }
        } finally {
            stop.set(true);
            producer.join(10_000);
        }
        return latencies;
    }

    interface Job {
        void run() throws Exception;
    }

    static double seconds(Job job) throws Exception {
        long t0 = System.nanoTime();
        job.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The bundled corpus's texts, repeated to {@code n}. */
    static List<String> texts(int n) throws java.io.IOException {
        Path csv = Files.exists(Path.of("corpus/wordnet-4class.csv")) ? Path.of("corpus/wordnet-4class.csv")
                : Path.of("../corpus/wordnet-4class.csv");
        List<String> lines = Files.readAllLines(csv);
        List<String> all = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            int comma = line.lastIndexOf(',');
            String text = line.substring(0, comma);
            all.add(text.startsWith("\"") ? text.substring(1, text.length() - 1).replace("\"\"", "\"") : text);
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(all.get(i % all.size()));
        }
        return out;
    }

    private ProviderBenchmark() {
    }
}
