package io.streamdistill.cli;

import io.streamdistill.teacher.model.StaticDistillation;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import io.streamdistill.trainer.Preset;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code streamdistill distill-general --teacher NAME|DIR --preset NAME [--set k=v] [--corpus FILE...] --out FILE}:
 * general distillation ({@link GeneralDistillation}), the file {@code student.init=general:FILE} starts a
 * live student from.
 */
@Command(name = "distill-general", mixinStandardHelpOptions = true,
        description = "Distil a student from a teacher over generic text, before any task data (TinyBERT's general stage): the "
                + "file student.init=general:FILE starts a live student from. Cached by teacher, settings and corpus; resumable.")
public final class DistillGeneralCommand implements Callable<Integer> {
    static final Path DEFAULT_CORPUS = Path.of("corpus/general/out/general.txt");

    @Option(names = "--teacher", defaultValue = "all-MiniLM-L6-v2",
            description = "built-in teacher id, descriptor file, or a directory with teacher.json or model.onnx + tokenizer.json"
                    + " (default: ${DEFAULT-VALUE})")
    String teacherName;

    @Option(names = "--preset", defaultValue = "fast", description = "the student: fast (a bag, from the static warm start), balanced or"
            + " quality (the teacher's embeddings and 1 or 2 of its blocks); docs/student-trainer.md, \"Presets\" (default: ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--set", description = "a student or training setting over the preset's, key=value, repeatable "
            + "(e.g. --set student.embedding.dim=64); the live job must use the same student settings")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--corpus", description = "sentences, one a line; repeatable (default: " + "corpus/general/out/general.txt, built by"
            + " bash corpus/general/build_all.sh)")
    List<Path> corpora;

    @Option(names = "--out", required = true, description = "the general student's file")
    Path out;

    @Option(names = "--sentences", defaultValue = "0", description = "use the first N sentences (default: all)")
    int sentences;

    @Option(names = "--batch", defaultValue = "32", description = "sentences per step (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--save-every", defaultValue = "PT2M", description = "save progress this often, ISO-8601; an interrupted run"
            + " resumes from it (default: ${DEFAULT-VALUE})")
    Duration saveEvery;

    @Option(names = "--threads", defaultValue = "2", description = "ONNX Runtime threads for the teacher (default: ${DEFAULT-VALUE})")
    int threads;

    @Override
    public Integer call() throws Exception {
        Preset p = Preset.parse(preset);
        GeneralDistillation.Options options = new GeneralDistillation.Options(out, corpora == null || corpora.isEmpty()
                ? List.of(DEFAULT_CORPUS) : corpora, sentences, batch, saveEvery, 0);
        TeacherDescriptor descriptor = TeacherDescriptor.resolve(teacherName);
        try (Teacher teacher = Teacher.load(descriptor, threads, Teacher.Device.CPU, 0)) {
            GeneralDistillation.Result r = GeneralDistillation.run(teacher, descriptor.id(), settings(p, overrides, descriptor, teacher),
                    options, System.out);
            System.out.println("start a live student from it with --student.init=general:" + r.file().toAbsolutePath()
                    + " and the same student settings (--preset " + p.id() + ")");
        }
        return 0;
    }

    /**
     * The student's settings: the preset's under the user's; a bag starts from the teacher's static table (as the
     * demo's does), a student of the teacher's blocks from its ONNX file.
     */
    static Map<String, String> settings(Preset preset, Map<String, String> overrides, TeacherDescriptor descriptor, Teacher teacher) {
        Map<String, String> s = preset.under(overrides);
        Path teacherFiles = StaticDistillation.defaultCacheDir().resolve("heads").resolve(teacher.ref().getSha256());
        if ("bag".equals(s.getOrDefault("student.arch", "bag").trim()) && !s.containsKey("student.init")) {
            int dim = Integer.parseInt(s.getOrDefault("student.embedding.dim", "" + WarmStartFiles.DEFAULT_DIM));
            s.putAll(WarmStartFiles.prepare(teacher, dim, StaticDistillation.defaultCacheDir(), teacherFiles, System.out, null)
                    .trainerSettings());
            s.putIfAbsent("training.learningRate", WarmStartFiles.DEFAULT_LEARNING_RATE);
        }
        return TeacherBlocks.resolve(s, descriptor, teacher, teacherFiles);
    }
}
