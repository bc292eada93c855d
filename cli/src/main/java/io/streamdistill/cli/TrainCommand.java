package io.streamdistill.cli;

import io.streamdistill.teacher.model.StaticDistillation;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import io.streamdistill.flinkcluster.JobJars;
import io.streamdistill.trainer.ClusterJob;
import io.streamdistill.trainer.Preset;
import io.streamdistill.trainer.StudentTrainerJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code streamdistill train --key=value ...}: the trainer job on a local MiniCluster against
 * external Kafka and registry (settings as in docs/student-trainer.md; {@code --checkpoint.dir=URI}).
 * With {@code --student.init=static} (no file) it builds or reuses the static table of
 * {@code --teacher=NAME|DIR} (default all-MiniLM-L6-v2) and, for a classification teacher, its head file.
 */
@Command(name = "train", description = "Run the student trainer (local Flink, or --flink-cluster) against an external Kafka and "
        + "registry: --key=value settings as in docs/student-trainer.md; --preset=fast|balanced|quality names a student (its "
        + "settings under yours); --student.init=static --teacher=NAME|DIR warm-starts the student.")
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--flink-cluster", paramLabel = "HOST:PORT", description = "submit the job to this Flink 2.2 cluster (its "
            + "JobManager's REST address) instead of running a local MiniCluster; the command stays attached until the job ends")
    String flinkCluster;

    @Option(names = "--job-jar", paramLabel = "JAR", description = "with --flink-cluster: the trainer's job jar (mvn -Pjob-jar -pl "
            + "student-trainer -am package); without it the jars of this installation's trainer are shipped")
    Path jobJar;

    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (jobJar != null && flinkCluster == null) {
            throw new IllegalArgumentException("--job-jar goes with --flink-cluster");
        }
        List<Path> jars = flinkCluster == null ? List.of() : jobJar != null ? List.of(jobJar) : installedJobJars();
        StudentTrainerJob.run(StudentTrainerJob.flags(resolve(args).toArray(String[]::new)), flinkCluster, jars);
        return 0;
    }

    /** The trainer's code as this installation has it, without a shaded job jar: its own jars and the dependencies Flink does not provide. */
    private static List<Path> installedJobJars() throws java.io.IOException {
        return JobJars.of(ClusterJob.RUNTIME_LIST, Files.createTempDirectory("streamdistill-job"),
                ClusterJob.ownClasses().toArray(Class<?>[]::new));
    }

    /**
     * The arguments with {@code --preset=NAME}'s settings laid under the others, and {@code --student.init=static}
     * (no file) replaced by the table and head files of {@code --teacher}, or {@code --student.init=teacher} by the
     * teacher's ONNX file and head.
     */
    static List<String> resolve(List<String> args) {
        Map<String, String> flags = StudentTrainerJob.flags(args.toArray(String[]::new));
        String teacherName = flags.remove("teacher");
        String presetName = flags.remove("preset");
        flags = TeacherBlocks.layered(presetName == null ? null : Preset.parse(presetName), flags);
        boolean fromTable = "static".equals(flags.get("student.init"));
        if (!fromTable && !TeacherBlocks.wanted(flags) && !TeacherBlocks.general(flags)) {
            if (teacherName != null) {
                throw new IllegalArgumentException("--teacher is only used with --student.init=static, teacher or general:FILE (or a"
                        + " --preset that starts from the teacher)");
            }
            return toArgs(flags);
        }
        TeacherDescriptor descriptor = TeacherDescriptor.resolve(teacherName == null ? "all-MiniLM-L6-v2" : teacherName);
        try (Teacher teacher = Teacher.load(descriptor, 1, Teacher.Device.CPU, 0)) {
            Path teacherFiles = StaticDistillation.defaultCacheDir().resolve("heads").resolve(teacher.ref().getSha256());
            if (fromTable) {
                int dim = Integer.parseInt(flags.getOrDefault("student.embedding.dim", "" + WarmStartFiles.DEFAULT_DIM));
                flags.putAll(WarmStartFiles.prepare(teacher, dim, StaticDistillation.defaultCacheDir(), teacherFiles, System.err, null)
                        .trainerSettings());
            } else {
                flags = TeacherBlocks.resolve(flags, descriptor, teacher, teacherFiles);
            }
            if (!teacher.classNames().isEmpty()) {
                flags.putIfAbsent("student.task", "CLASSIFICATION");
                flags.putIfAbsent("student.classes", String.join(",", teacher.classNames()));
            } else {
                flags.putIfAbsent("student.task", "EMBEDDING");
                flags.putIfAbsent("student.output.dim", String.valueOf(teacher.embeddingDim()));
            }
        }
        return toArgs(flags);
    }

    private static List<String> toArgs(Map<String, String> flags) {
        List<String> out = new ArrayList<>();
        flags.forEach((k, v) -> out.add("--" + k + "=" + v));
        return out;
    }
}
