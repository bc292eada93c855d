package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.flinkcluster.ArtifactList;
import io.streamdistill.flinkcluster.JobJars;
import io.streamdistill.flinksql.StudentModelProviderFactory;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.trainer.ClusterJob;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer and a Flink SQL job that scores with its student, both on one Flink cluster of separate processes
 * (a JobManager, two TaskManagers of two slots): start, produce, verify. While the SQL job (parallelism 2, a task
 * per partition of a Kafka table) answers texts, the trainer publishes new versions from the soft targets it reads;
 * the rows move to a newer version without the SQL job restarting. Then a version altered after publication is
 * refused by both TaskManagers' tasks while the old one answers, and the next one is taken. Every row is answered once.
 */
class TrainerToSqlOnFlinkClusterTest {
    /** What a Flink distribution's lib/ holds for SQL. */
    private static final List<String> TABLE_LIB = List.of("flink-table-common", "flink-table-api-java", "flink-table-api-bridge-base",
            "flink-table-api-java-bridge", "flink-table-runtime", "flink-table-planner-loader", "flink-cep");
    /** The Kafka table's connector, which a user's SQL job jar would carry. */
    private static final Set<String> CONNECTOR = Set.of("flink-connector-kafka", "flink-connector-base");

    @TempDir
    Path dir;
    private String checkpointsTopic;
    private long tamperedVersion;

    @Test
    void aSqlJobMovesToTheVersionsTheTrainerPublishesOnTheSameCluster() throws Exception {
        List<Path> classpath = ArtifactList.classpath();
        ClusterTraining training = ClusterTraining.start(dir, 2, 2, named(classpath, TABLE_LIB),
                SharedStack.get().bootstrapServers(), SharedStack.get().registryUrl());
        String soft = SharedStack.newTopic("sql-cluster-soft", 1);
        String checkpoints = SharedStack.newTopic("sql-cluster-checkpoints", 1);
        checkpointsTopic = checkpoints;
        String texts = SharedStack.newTopic("sql-cluster-texts", 2);
        JobClient trainer = null;
        try {
            trainer = training.submit(soft, checkpoints, "sql", "none", 2000);
            training.produce(soft, 0, 600);
            StudentCheckpoint first = training.awaitVersionAfter(checkpoints, 0, Duration.ofMinutes(3));

            List<Path> jobJars = new ArrayList<>(JobJars.of("META-INF/streamdistill/flink-sql.list", dir.resolve("sql-job"),
                    ClusterJob.LIB_ARTIFACTS, StudentModelProviderFactory.class, io.streamdistill.serving.Serving.class,
                    io.streamdistill.student.Hashing.class, io.streamdistill.schemas.Topics.class,
                    io.streamdistill.artifacts.ArtifactReader.class, io.streamdistill.teacher.cascade.CascadeTeacher.class));
            classpath.stream().filter(p -> CONNECTOR.stream().anyMatch(c -> p.getFileName().toString().startsWith(c + "-"))).forEach(jobJars::add);
            String[] hostPort = training.cluster.restAddress().split(":");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment(hostPort[0], Integer.parseInt(hostPort[1]),
                    jobJars.stream().map(Path::toString).toArray(String[]::new));
            env.setParallelism(2);
            StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);
            tEnv.executeSql("CREATE TABLE texts (id STRING, text STRING) WITH ('connector' = 'kafka', 'topic' = '" + texts + "',"
                    + " 'properties.bootstrap.servers' = '" + SharedStack.get().bootstrapServers() + "',"
                    + " 'properties.group.id' = 'sql-cluster', 'scan.startup.mode' = 'earliest-offset',"
                    + " 'key.format' = 'raw', 'key.fields' = 'id', 'value.format' = 'raw', 'value.fields-include' = 'EXCEPT_KEY')");
            tEnv.executeSql("CREATE MODEL student INPUT (text STRING) OUTPUT (label STRING, version BIGINT) WITH ("
                    + " 'provider' = 'streamdistill', 'student' = '" + first.getStudent() + "',"
                    + " 'bootstrap.servers' = '" + SharedStack.get().bootstrapServers() + "',"
                    + " 'schema.registry.url' = '" + SharedStack.get().registryUrl() + "', 'checkpoints.topic' = '" + checkpoints + "')");
            Map<String, List<Long>> answers = new HashMap<>();
            try (CloseableIterator<Row> rows = tEnv.executeSql("SELECT id, label, version FROM ML_PREDICT(TABLE texts, MODEL student,"
                    + " DESCRIPTOR(text))").collect()) {
                produceTexts(texts, 0, 20);
                List<Row> before = take(rows, 20, answers);
                long answering = before.get(before.size() - 1).<Long>getFieldAs("version");
                assertThat(answering).as("a version the trainer published").isGreaterThanOrEqualTo(first.getVersion());

                // The trainer goes on: more soft targets, a newer version; the running SQL job moves to it.
                training.produce(soft, 600, 1000);
                StudentCheckpoint newer = training.awaitVersionAfter(checkpoints, answering, Duration.ofMinutes(3));
                int next = 20;
                List<Row> last = List.of();
                long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
                while (System.nanoTime() < deadline) {
                    produceTexts(texts, next, next + 10);
                    last = take(rows, 10, answers);
                    next += 10;
                    if (last.stream().allMatch(r -> r.<Long>getFieldAs("version") >= newer.getVersion())) {
                        break;
                    }
                    Thread.sleep(500);
                }
                assertThat(last).as("rows of both partitions answered by version %d or later", newer.getVersion()).hasSize(10)
                        .allSatisfy(r -> {
                            assertThat(r.<Long>getFieldAs("version")).isGreaterThanOrEqualTo(newer.getVersion());
                            assertThat(r.<String>getFieldAs("label")).isIn("a", "b", "c", "d");
                        });

                // The trainer stops; a version whose file was altered after publication comes next: both tasks refuse it
                // and the version they hold goes on answering; the version after it (the file intact) is taken.
                trainer.cancel().get();
                StudentCheckpoint held = ClusterTraining.last(training.checkpoints(checkpoints));
                byte[] bytes = java.nio.file.Files.readAllBytes(Path.of(java.net.URI.create(held.getArtifact().getUri())));
                long heldVersion = held.getVersion();
                long tampered = heldVersion + 1;
                tamperedVersion = tampered;
                byte[] altered = bytes.clone();
                altered[altered.length / 2] ^= 1;
                publishCopy(held, tampered, altered, bytes);
                produceTexts(texts, next, next + 10);
                assertThat(take(rows, 10, answers)).as("version %d refused, %d answers", tampered, heldVersion)
                        .allSatisfy(r -> assertThat(r.<Long>getFieldAs("version")).isEqualTo(heldVersion));
                next += 10;
                publishCopy(held, tampered + 1, bytes, bytes);
                deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
                while (System.nanoTime() < deadline) {
                    produceTexts(texts, next, next + 10);
                    last = take(rows, 10, answers);
                    next += 10;
                    if (last.stream().allMatch(r -> r.<Long>getFieldAs("version") == tampered + 1)) {
                        break;
                    }
                    Thread.sleep(500);
                }
                assertThat(last).allSatisfy(r -> assertThat(r.<Long>getFieldAs("version")).isEqualTo(tampered + 1));
                assertThat(answers).as("every row answered once").hasSize(next)
                        .allSatisfy((id, v) -> assertThat(v).hasSize(1).doesNotContain(tampered));
            }
            for (int tm = 0; tm < 2; tm++) {
                assertThat(java.nio.file.Files.readString(training.cluster.sharedDir().resolve("log").resolve("taskmanager-" + tm + ".log")))
                        .as("TaskManager %d's SQL task refused the altered version", tm).contains("refused '" + first.getStudent()
                                + "' version " + tamperedVersion);
            }
        } finally {
            ClusterTraining.cancelIfRunning(trainer);
            training.cluster.close();
        }
    }

    /**
     * Publishes {@code held}'s record again (changed in place) as {@code version}, its file {@code bytes} written beside the others, the sha256
     * that of {@code published} (so altered bytes are caught as altered after publication).
     */
    private void publishCopy(StudentCheckpoint held, long version, byte[] bytes, byte[] published) throws Exception {
        Path file = dir.resolve("copies").resolve(String.valueOf(version)).resolve("model.onnx");
        java.nio.file.Files.createDirectories(file.getParent());
        java.nio.file.Files.write(file, bytes);
        held.setVersion(version);
        held.setArtifact(io.streamdistill.records.Artifact.newBuilder().setUri(file.toUri().toString())
                .setSha256(io.streamdistill.student.Hashing.sha256(published)).setBytes(bytes.length).setFormat("onnx").build());
        io.streamdistill.schemas.serde.AvroSerializer<StudentCheckpoint> serializer =
                new io.streamdistill.schemas.serde.AvroSerializer<>(SharedStack.registryClient());
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedStack.get().bootstrapServers()),
                new org.apache.kafka.common.serialization.ByteArraySerializer(), new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            String topic = checkpointsTopic;
            p.send(new ProducerRecord<>(topic, held.getStudent().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    serializer.serialize(topic, held))).get();
        }
    }

    private static List<Path> named(List<Path> classpath, List<String> artifacts) {
        List<Path> out = new ArrayList<>();
        for (String a : artifacts) {
            classpath.stream().filter(p -> p.getFileName().toString().matches(java.util.regex.Pattern.quote(a) + "-\\d.*\\.jar"))
                    .findFirst().ifPresent(out::add);
        }
        assertThat(out).as("the table runtime's jars on this classpath").hasSize(artifacts.size());
        return out;
    }

    /** Texts {@code from..to-1}, even ids to partition 0 and odd to 1, so both tasks answer rows. */
    private static void produceTexts(String topic, int from, int to) throws Exception {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers", SharedStack.get().bootstrapServers()),
                new StringSerializer(), new StringSerializer())) {
            for (int i = from; i < to; i++) {
                p.send(new ProducerRecord<>(topic, i % 2, "t-" + i, "the river number " + i + " of the texts")).get();
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
