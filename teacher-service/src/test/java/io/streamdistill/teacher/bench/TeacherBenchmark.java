package io.streamdistill.teacher.bench;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import io.streamdistill.records.TextEvent;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroSerializer;
import io.streamdistill.student.bench.SyntheticText;
import io.streamdistill.student.tokenize.MiniLmFiles;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.service.Metrics;
import io.streamdistill.teacher.service.TeacherConfig;
import io.streamdistill.teacher.service.TeacherService;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The teacher-service benchmark: texts/s of (a) the whole service through Kafka (embedded broker,
 * real registry, transactions), (b) a raw in-process loop doing only tokenisation, length sorting,
 * batching and the ONNX Runtime run on the same texts with the same batch size, and (c)
 * langchain4j's AllMiniLmL6V2EmbeddingModel on one thread. Prints a table and writes
 * {@code target/benchmarks/teacher-service.json}.
 *
 * <pre>mvn -DskipTests install && mvn -pl teacher-service exec:java@benchmark</pre>
 */
public final class TeacherBenchmark {
    public static void main(String[] args) throws Exception {
        int n = Integer.getInteger("bench.texts", 3000);
        int batch = 32;
        List<String> texts = SyntheticText.sentences(MiniLmFiles.tokenizer(), n, 22, 11);
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("date", Instant.now().toString());
        results.put("texts", n);
        results.put("batch", batch);
        results.put("threads", 1);

        try (Teacher teacher = Teacher.load(BuiltInTeachers.ALL_MINILM_L6_V2.descriptor(), 1, Teacher.Device.CPU, 0)) {
            rawLoop(teacher, texts.subList(0, Math.min(200, n)), batch); // warm-up
            Measured raw = measure(() -> rawLoop(teacher, texts, batch), n);
            Measured service = service(teacher, texts, batch);
            Measured peer = langchain4j(texts);
            Map<String, Measured> rates = new LinkedHashMap<>();
            rates.put("teacher-service through Kafka (EOS transactions)", service);
            rates.put("raw in-process loop: tokenize + sort + ORT", raw);
            rates.put("langchain4j AllMiniLmL6V2EmbeddingModel (its defaults)", peer);
            Map<String, Double> wall = new LinkedHashMap<>();
            Map<String, Double> perCpu = new LinkedHashMap<>();
            rates.forEach((k, v) -> {
                wall.put(k, v.perSecond());
                perCpu.put(k, v.perCpuSecond());
            });
            results.put("texts_per_wall_second", wall);
            results.put("texts_per_cpu_second", perCpu);
            Map<String, Double> ratios = new LinkedHashMap<>();
            ratios.put("service / raw loop (wall)", service.perSecond() / raw.perSecond());
            ratios.put("service / langchain4j (wall; langchain4j uses every core)", service.perSecond() / peer.perSecond());
            ratios.put("service / langchain4j (per CPU-second)", service.perCpuSecond() / peer.perCpuSecond());
            results.put("ratios", ratios);

            System.out.printf("%nStreamDistill teacher-service benchmark — %s%n%d texts of ~24 tokens, batch %d, 1 ORT thread%n%n",
                    results.get("date"), n, batch);
            System.out.printf("| %-56s | %9s | %12s |%n|%s|%s|%s|%n", "path", "texts/s", "texts/CPU-s", "-".repeat(58),
                    "-".repeat(11), "-".repeat(14));
            rates.forEach((k, v) -> System.out.printf("| %-56s | %9.1f | %12.1f |%n", k, v.perSecond(), v.perCpuSecond()));
            System.out.printf("%n| %-52s | %9s |%n|%s|%s|%n", "ratio", "x", "-".repeat(54), "-".repeat(11));
            ratios.forEach((k, v) -> System.out.printf("| %-52s | %9.2f |%n", k, v));
        }
        Path out = Path.of("target", "benchmarks", "teacher-service.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                .writeValueAsString(results));
        System.out.println("\nwrote " + out.toAbsolutePath());
        System.exit(0);
    }

    /** Wall and process CPU time of one measured run (CPU includes ONNX Runtime's native threads). */
    record Measured(double seconds, double cpuSeconds, int items) {
        double perSecond() {
            return items / seconds;
        }

        double perCpuSecond() {
            return items / cpuSeconds;
        }
    }

    interface Run {
        void run() throws Exception;
    }

    static Measured measure(Run run, int items) throws Exception {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        run.run();
        return new Measured((System.nanoTime() - t0) / 1e9, (os.getProcessCpuTime() - cpu0) / 1e9, items);
    }

    /** What the service does per poll, minus Kafka: tokenize, sort by length, batch, run. */
    static void rawLoop(Teacher teacher, List<String> texts, int batch) {
        for (int from = 0; from < texts.size(); from += 256) {
            List<TextTokenizer.Encoded> enc = new ArrayList<>(teacher.tokenizer()
                    .encodeWithTruncation(texts.subList(from, Math.min(texts.size(), from + 256))));
            enc.sort(Comparator.comparingInt(e -> e.ids().length));
            for (int b = 0; b < enc.size(); b += batch) {
                List<TextTokenizer.Encoded> part = enc.subList(b, Math.min(enc.size(), b + batch));
                int[][] ids = new int[part.size()][];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = part.get(i).ids();
                }
                teacher.infer(ids);
            }
        }
    }

    /**
     * Produces every text first, then times the service from its first poll to its last soft
     * target. The broker runs in a child process, so this process's CPU time is the service's own.
     */
    static Measured service(Teacher teacher, List<String> texts, int batch) throws Exception {
        try (ChildStack stack = ChildStack.start(List.of("bench-text", "bench-soft", "bench-dead"))) {
            SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.builder(stack.registryUrl()).build());
            AvroSerializer<TextEvent> avro = new AvroSerializer<>(registry);
            try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", stack.bootstrapServers()),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < texts.size(); i++) {
                    TextEvent e = TextEvent.newBuilder().setId("b-" + i).setText(texts.get(i)).setLabel(null).setSource(null)
                            .setEventTime(Instant.now()).setAttributes(Map.of()).build();
                    p.send(new ProducerRecord<>("bench-text", ("b-" + i).getBytes(StandardCharsets.UTF_8), avro.serialize("bench-text", e)));
                }
                p.flush();
            }
            TeacherConfig config = TeacherConfig.of(Map.of("bootstrap.servers", stack.bootstrapServers(),
                    "schema.registry.url", stack.registryUrl(), "input.topic", "bench-text", "output.topic", "bench-soft",
                    "dead.letter.topic", "bench-dead", "batch.max.size", String.valueOf(batch), "http.port", "-1"));
            Metrics metrics = new Metrics();
            TeacherService service = new TeacherService(config, teacher, metrics);
            Thread loop = new Thread(service, "bench-loop");
            loop.start();
            while (metrics.recordsIn() == 0) {
                Thread.sleep(1);
            }
            Measured m = measure(() -> {
                while (metrics.softTargets() < texts.size()) {
                    Thread.sleep(2);
                }
            }, texts.size());
            service.close();
            return m;
        }
    }

    /** A local stack in a child JVM (LocalStackMain), on this process's classpath. */
    record ChildStack(Process process, String bootstrapServers, String registryUrl) implements AutoCloseable {
        static ChildStack start(List<String> topics) throws Exception {
            StringBuilder cp = new StringBuilder(System.getProperty("java.class.path"));
            ClassLoader loader = TeacherBenchmark.class.getClassLoader();
            if (loader instanceof java.net.URLClassLoader urls) { // exec:java runs us in its own class loader
                for (java.net.URL u : urls.getURLs()) {
                    cp.append(java.io.File.pathSeparator).append(Path.of(u.toURI()));
                }
            }
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m", "-cp", cp.toString(), io.streamdistill.localstack.LocalStackMain.class.getName()));
            cmd.addAll(topics);
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8));
            String bootstrap = null;
            String registry = null;
            String line;
            while ((bootstrap == null || registry == null) && (line = out.readLine()) != null) {
                if (line.startsWith("BOOTSTRAP=")) {
                    bootstrap = line.substring("BOOTSTRAP=".length());
                } else if (line.startsWith("REGISTRY=")) {
                    registry = line.substring("REGISTRY=".length());
                }
            }
            if (bootstrap == null || registry == null) {
                p.destroyForcibly();
                throw new IllegalStateException("the local stack child process did not start");
            }
            return new ChildStack(p, bootstrap, registry);
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    static Measured langchain4j(List<String> texts) throws Exception {
        AllMiniLmL6V2EmbeddingModel model = new AllMiniLmL6V2EmbeddingModel(Executors.newSingleThreadExecutor());
        List<TextSegment> segments = texts.stream().map(TextSegment::from).toList();
        model.embedAll(segments.subList(0, Math.min(100, segments.size()))); // warm-up
        return measure(() -> model.embedAll(segments), texts.size());
    }

    private TeacherBenchmark() {
    }
}
