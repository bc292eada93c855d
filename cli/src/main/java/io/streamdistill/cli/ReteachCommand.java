package io.streamdistill.cli;

import io.streamdistill.localstack.TopicSetup;
import io.streamdistill.schemas.ClientSettings;
import io.streamdistill.schemas.TopicRange;
import io.streamdistill.schemas.Topics;
import io.streamdistill.teacher.TeacherServiceMain;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.service.Metrics;
import io.streamdistill.teacher.service.TeacherConfig;
import io.streamdistill.teacher.service.TeacherService;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code streamdistill reteach}: runs a slice of the text topic through another teacher into a
 * soft-target topic of its own, so a new teacher can be compared (then replayed into a student)
 * without touching production. Exactly-once like the service; returns when the slice is done.
 */
@Command(name = "reteach", mixinStandardHelpOptions = true,
        description = "Run a slice of the text topic through another teacher into a separate soft-target topic.")
public final class ReteachCommand implements Callable<Integer> {
    @Option(names = "--from", required = true, description = "earliest | latest | an instant | partition:offset,... (as in replay)")
    String from;

    @Option(names = "--to", defaultValue = "latest", description = "latest | an instant | partition:offset,... (default: ${DEFAULT-VALUE})")
    String to;

    @Option(names = "--teacher", required = true, description = "a built-in teacher id or a teacher descriptor file")
    String teacher;

    @Option(names = "--output-topic", required = true, description = "the soft-target topic of this teacher (created if missing)")
    String outputTopic;

    @Option(names = "--dead-letter-topic", description = "default: <output-topic>.dead-letters")
    String deadLetterTopic;

    @Option(names = "--input-topic", defaultValue = Topics.TEXT, description = "the text topic (default: ${DEFAULT-VALUE})")
    String inputTopic;

    @Option(names = "--set", description = "a teacher-service setting, key=value, repeatable (e.g. teacher.max.tokens=256)")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Mixin
    ClusterOptions cluster;

    @Override
    public Integer call() throws Exception {
        if (outputTopic.equals(Topics.SOFT_TARGETS) || outputTopic.equals(inputTopic)) {
            throw new IllegalArgumentException("--output-topic must be a topic of its own, not '" + outputTopic
                    + "': a re-teach never writes to production topics");
        }
        String dead = deadLetterTopic != null ? deadLetterTopic : outputTopic + ".dead-letters";
        try (ClusterOptions.Cluster c = cluster.open()) {
            Map<String, String> settings = new HashMap<>(c.settings());
            settings.putAll(overrides);
            settings.put("teacher", teacher);
            settings.put("input.topic", inputTopic);
            settings.put("output.topic", outputTopic);
            settings.put("dead.letter.topic", dead);
            settings.putIfAbsent("group.id", "streamdistill-reteach-" + outputTopic);
            settings.putIfAbsent("transactional.id", "streamdistill-reteach-" + outputTopic);
            settings.putIfAbsent("service.name", "reteach");
            TeacherConfig config = TeacherConfig.of(settings);

            TopicRange range;
            Map<String, Object> admin = new HashMap<>(ClientSettings.kafka(c.settings()));
            admin.put("bootstrap.servers", c.bootstrapServers());
            try (Admin a = Admin.create(admin)) {
                range = TopicRange.resolve(a, inputTopic, from, to);
                int partitions = range.offsets().size();
                TopicSetup.ensureTopics(a, List.of(new NewTopic(outputTopic, Optional.of(partitions), Optional.empty()),
                        new NewTopic(dead, Optional.of(1), Optional.empty())), Duration.ofSeconds(60));
            }
            System.out.printf("reteach: %d offsets of %s through teacher %s into %s (dead letters: %s)%n", range.records(),
                    inputTopic, teacher, outputTopic, dead);
            Metrics metrics = new Metrics();
            try (Teacher t = TeacherServiceMain.loadTeacher(config);
                 TeacherService service = new TeacherService(config, t, metrics).bounded(range.offsets())) {
                Thread progress = new Thread(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        try {
                            Thread.sleep(5000);
                        } catch (InterruptedException e) {
                            return;
                        }
                        System.out.printf("reteach: %d of %d in, %d soft targets, %d dead letters%n", metrics.recordsIn(),
                                range.records(), metrics.softTargets(), metrics.deadLetters());
                    }
                }, "reteach-progress");
                progress.setDaemon(true);
                progress.start();
                long t0 = System.nanoTime();
                service.run();
                progress.interrupt();
                System.out.printf("reteach done in %.1f s: %d records in, %d soft targets to %s, %d dead letters to %s%n",
                        (System.nanoTime() - t0) / 1e9, metrics.recordsIn(), metrics.softTargets(), outputTopic,
                        metrics.deadLetters(), dead);
            }
        }
        return 0;
    }
}
