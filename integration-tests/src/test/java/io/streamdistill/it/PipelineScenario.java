package io.streamdistill.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.monitor.Monitor;
import io.streamdistill.monitor.MonitorConfig;
import io.streamdistill.trainer.StudentTrainerJob;
import io.streamdistill.trainer.TrainerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.errors.InvalidStateStoreException;

/**
 * The whole pipeline against any Kafka + registry: text in, the teacher's soft targets, the trainer
 * job (local Flink) publishing a student, and the monitor scoring each published version live.
 * Run on the embedded stack ({@code EndToEndTest}) and on containers ({@code ContainerStackTest}).
 */
final class PipelineScenario {

    /** @param topic creates a topic for a short name (text, soft, dead, checkpoints, metrics) and returns its full name */
    static void run(String bootstrap, String registryUrl, UnaryOperator<String> topic, Path dir) throws Exception {
        String text = topic.apply("text");
        String soft = topic.apply("soft");
        String dead = topic.apply("dead");
        String checkpoints = topic.apply("checkpoints");
        String metrics = topic.apply("metrics");
        TrainerConfig trainer = TrainerConfig.of(Map.ofEntries(
                Map.entry("bootstrap.servers", bootstrap), Map.entry("schema.registry.url", registryUrl),
                Map.entry("input.topic", soft), Map.entry("output.topic", checkpoints), Map.entry("student.name", "e2e"),
                Map.entry("student.task", "EMBEDDING"), Map.entry("student.output.dim", "384"), Map.entry("student.embedding.dim", "16"),
                Map.entry("starting.offsets", "earliest"), Map.entry("export.every.records", "100"),
                Map.entry("export.every.seconds", "2"), Map.entry("holdout.percent", "10"), Map.entry("checkpoint.interval.ms", "1000"),
                Map.entry("restore.from", "none"), Map.entry("transactional.id.prefix", "e2e-" + checkpoints),
                Map.entry("artifact.dir", dir.resolve("artifacts").toUri().toString())));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1,
                StudentTrainerJob.configure(trainer, dir.resolve("flink").toUri().toString()));
        StudentTrainerJob.enableCheckpointing(env, trainer);
        StudentTrainerJob.build(env, trainer);
        MonitorConfig monitorConfig = MonitorConfig.of(Map.ofEntries(
                Map.entry("bootstrap.servers", bootstrap), Map.entry("schema.registry.url", registryUrl),
                Map.entry("application.id", "e2e-monitor-" + soft), Map.entry("soft.targets.topic", soft),
                Map.entry("dead.letters.topic", dead), Map.entry("checkpoints.topic", checkpoints),
                Map.entry("metrics.topic", metrics), Map.entry("holdout.percent", "10"), Map.entry("window.seconds", "2"),
                Map.entry("state.dir", dir.resolve("monitor").toString()), Map.entry("http.port", "-1")));
        Map<String, String> teacherSettings = Map.of("bootstrap.servers", bootstrap, "schema.registry.url", registryUrl,
                "input.topic", text, "output.topic", soft, "dead.letter.topic", dead, "group.id", "e2e-teacher-" + text,
                "transactional.id", "e2e-teacher-" + text);
        try (RunningTeacher teacher = RunningTeacher.start(teacherSettings); Monitor monitor = Monitor.start(monitorConfig)) {
            JobClient job = env.executeAsync("e2e-trainer");
            try {
                try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap),
                        new ByteArraySerializer(), new ByteArraySerializer())) {
                    for (int round = 0; round < 3; round++) {
                        for (int i = 0; i < 200; i++) {
                            String id = "e2e-" + round + "-" + i;
                            p.send(new ProducerRecord<>(text, id.getBytes(StandardCharsets.UTF_8),
                                    ("end to end sentence " + i + " in round " + round).getBytes(StandardCharsets.UTF_8)));
                        }
                        p.flush();
                        Thread.sleep(5000); // later rounds meet a published student: the monitor scores them
                    }
                }
                // Each version is scored on the holdout records that arrive while it is the newest: the last
                // one may see none, so the live scores of all versions together must be positive.
                long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
                long versions = 0;
                long scored = 0;
                while (System.nanoTime() < deadline && scored == 0) {
                    Thread.sleep(1000);
                    try {
                        versions = monitor.queries().shadow().stream().filter(v -> "e2e".equals(v.get("student"))).count();
                        scored = monitor.queries().shadow().stream().filter(v -> "e2e".equals(v.get("student")))
                                .mapToLong(v -> ((Number) v.get("shadow_records")).longValue()).sum();
                    } catch (InvalidStateStoreException notYet) {
                        // starting or rebalancing
                    }
                }
                assertThat(versions).as("the monitor saw published versions").isPositive();
                assertThat(scored).as("and scored them on live holdout records").isPositive();
                assertThat(teacher.service.metrics().softTargets()).isEqualTo(600);
            } finally {
                job.cancel().get();
            }
        }
    }

    private PipelineScenario() {
    }
}
