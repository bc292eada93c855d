package io.streamdistill.cli;

import io.streamdistill.schemas.Topics;
import io.streamdistill.teacher.model.StaticDistillation;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import io.streamdistill.trainer.Preset;
import io.streamdistill.trainer.replay.Replay;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code streamdistill replay}: re-trains a student over a slice of the soft-target topic with other
 * settings, on a local MiniCluster, and writes the experiment under {@code --out/--name}.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Re-train a student over a slice of the soft-target topic with other settings: an experiment "
                + "(files under OUT/NAME; never the production checkpoint topic).")
public final class ReplayCommand implements Callable<Integer> {
    @Option(names = "--from", required = true,
            description = "earliest | latest | an instant (2026-11-28T10:00:00Z or epoch ms) | partition:offset,... "
                    + "(partitions not named are not replayed)")
    String from;

    @Option(names = "--to", defaultValue = "latest",
            description = "latest | earliest | an instant | partition:offset,... (exclusive; partitions not named run to "
                    + "their end) (default: ${DEFAULT-VALUE})")
    String to;

    @Option(names = "--name", required = true, description = "the experiment's name (letters, digits, . _ -)")
    String name;

    @Option(names = "--set", description = "a trainer setting to change, key=value, repeatable "
            + "(e.g. training.temperature=4, student.embedding.dim=128, batch.size=64; see docs/student-trainer.md)")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--preset", description = "train this student instead: fast (a bag of token embeddings), balanced (the "
            + "teacher's embeddings and last block) or quality (two of its blocks); --set changes any of its settings "
            + "(docs/student-trainer.md, \"Presets\")")
    String preset;

    @Option(names = "--teacher", defaultValue = "all-MiniLM-L6-v2", description = "with a student made of the teacher's blocks "
            + "(--preset balanced|quality, or --set student.init=teacher): the teacher whose ONNX file it starts from, a built-in "
            + "name or a directory (default: ${DEFAULT-VALUE})")
    String teacher;

    @Option(names = "--out", defaultValue = "experiments", description = "where experiments go (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--topic", defaultValue = Topics.SOFT_TARGETS, description = "the soft-target topic (default: ${DEFAULT-VALUE})")
    String topic;

    @Option(names = "--checkpoints-topic", defaultValue = Topics.CHECKPOINTS,
            description = "production checkpoints, read for class names, never written (default: ${DEFAULT-VALUE})")
    String checkpointsTopic;

    @Option(names = "--publish-to", description = "also publish the experiment's checkpoint records to this topic of its own")
    String publishTo;

    @Option(names = "--flink-cluster", description = "run on this Flink cluster (the JobManager's REST address host:port) "
            + "instead of a local MiniCluster; set an artifact.dir its TaskManagers can write, e.g. --set artifact.dir=s3://bucket/exp")
    String flinkCluster;

    @Option(names = "--job-jar", description = "with --flink-cluster: the trainer's job jar "
            + "(mvn -Pjob-jar -pl student-trainer -am package)")
    Path jobJar;

    @Mixin
    ClusterOptions cluster;

    @Override
    public Integer call() throws Exception {
        try (ClusterOptions.Cluster c = cluster.open()) {
            return replay(c.settings());
        }
    }

    private int replay(Map<String, String> base) throws Exception {
        if (jobJar != null && flinkCluster == null) {
            throw new IllegalArgumentException("--job-jar goes with --flink-cluster");
        }
        Map<String, String> settings = TeacherBlocks.layered(preset == null ? null : Preset.parse(preset), overrides);
        if (TeacherBlocks.wanted(settings) || TeacherBlocks.general(settings)) {
            TeacherDescriptor descriptor = TeacherDescriptor.resolve(teacher);
            try (Teacher t = Teacher.load(descriptor, 1, Teacher.Device.CPU, 0)) {
                settings = TeacherBlocks.resolve(settings, descriptor, t,
                        StaticDistillation.defaultCacheDir().resolve("heads").resolve(t.ref().getSha256()));
            }
        }
        Replay.Result r = Replay.run(new Replay.Spec(name, base, settings, topic, from, to, out, checkpointsTopic, publishTo,
                flinkCluster, jobJar == null ? java.util.List.of() : java.util.List.of(jobJar)), System.out::println);
        if (r.last() == null) {
            System.out.println("replay " + name + ": no version was exported (too few records for the gate?); see "
                    + r.dir().resolve("experiment.json"));
            return 1;
        }
        Map<String, Double> m = r.last().getMetrics();
        System.out.printf("replay %s: %d versions in %.1f s; final version %d: holdout %s %.4f%s on %.0f records; wrote %s%n", name,
                r.versions().size(), r.seconds(), r.last().getVersion(),
                r.last().getTask().name().equals("EMBEDDING") ? "cosine" : "agreement", m.getOrDefault("holdout_agreement", Double.NaN),
                m.containsKey("holdout_kl") ? String.format(", KL %.4f", m.get("holdout_kl")) : "",
                m.getOrDefault("holdout_records", 0.0), r.dir().toAbsolutePath());
        return 0;
    }
}
