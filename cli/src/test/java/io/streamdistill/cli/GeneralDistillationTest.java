package io.streamdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamdistill.student.init.GeneralStudent;
import io.streamdistill.student.math.Kernels;
import io.streamdistill.student.train.Learner;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import io.streamdistill.trainer.Preset;
import io.streamdistill.trainer.TrainerConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * General distillation with the real MiniLM teacher and a small transformer student, on a small corpus: it moves the student towards the teacher on sentences it never saw; an
 * interrupted run resumes to exactly the student an uninterrupted one makes; the same inputs reuse
 * the file; and a live job's student starts from it.
 */
class GeneralDistillationTest {
    private static Teacher teacher;
    private static TeacherDescriptor descriptor;

    @BeforeAll
    static void loadTeacher() {
        descriptor = TeacherDescriptor.resolve("all-MiniLM-L6-v2");
        teacher = Teacher.load(descriptor, 2, Teacher.Device.CPU, 0);
    }

    @AfterAll
    static void closeTeacher() {
        teacher.close();
    }

    @Test
    void anInterruptedRunResumesToTheSameStudentAndTheSameInputsReuseTheFile(@TempDir Path dir) throws Exception {
        Path corpus = sentences(dir.resolve("generic.txt"), 360);
        Map<String, String> settings = studentSettings(dir);
        Path whole = dir.resolve("whole.sdgeneral");
        Path resumed = dir.resolve("resumed.sdgeneral");
        PrintStream log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

        GeneralDistillation.Result uninterrupted = GeneralDistillation.run(teacher, descriptor.id(), settings, options(whole, corpus, 0), log);
        assertThat(uninterrupted.complete()).isTrue();
        assertThat(uninterrupted.cosineAfter()).as("closer to the teacher on held-out sentences")
                .isGreaterThan(uninterrupted.cosineBefore() + 0.005);

        GeneralDistillation.Result stopped = GeneralDistillation.run(teacher, descriptor.id(), settings, options(resumed, corpus, 96), log);
        assertThat(stopped.complete()).isFalse();
        assertThat(resumed).doesNotExist();
        assertThat(GeneralDistillation.partial(resumed)).isRegularFile();
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        GeneralDistillation.Result rest = GeneralDistillation.run(teacher, descriptor.id(), settings, options(resumed, corpus, 0),
                new PrintStream(said, true, StandardCharsets.UTF_8));
        assertThat(rest.resumedAt()).isEqualTo(96);
        assertThat(said.toString(StandardCharsets.UTF_8)).contains("resuming").contains("ETA");
        assertThat(GeneralDistillation.partial(resumed)).doesNotExist();

        GeneralStudent a = GeneralStudent.read(whole, Kernels.gemm());
        GeneralStudent b = GeneralStudent.read(resumed, Kernels.gemm());
        assertThat(b.learner().step()).isEqualTo(a.learner().step());
        int[] ids = teacher.tokenizer().encode("a sentence the student never saw in either run");
        assertThat(b.learner().predict(ids)).as("resumed == uninterrupted").containsExactly(a.learner().predict(ids));
        assertThat(a.info()).containsEntry("teacher", descriptor.id()).containsEntry("architecture", "transformer")
                .containsKey("corpus_sha256").containsKey("key");
        assertThat(a.outputNorm()).isPositive();

        GeneralDistillation.Result again = GeneralDistillation.run(teacher, descriptor.id(), settings, options(whole, corpus, 0), log);
        assertThat(again.reused()).isTrue();
        Map<String, String> other = new HashMap<>(settings);
        other.put("training.learningRate", "0.001");
        assertThatThrownBy(() -> GeneralDistillation.run(teacher, descriptor.id(), other, options(whole, corpus, 0), log))
                .hasMessageContaining("exists and was made from another teacher, settings or corpus");
    }

    /** The live job's student from the file: an embedding student is the general one; a classifier keeps its encoder. */
    @Test
    void aLiveStudentStartsFromTheGeneralFile(@TempDir Path dir) throws Exception {
        Path corpus = sentences(dir.resolve("generic.txt"), 120);
        Path file = dir.resolve("g.sdgeneral");
        Map<String, String> settings = studentSettings(dir);
        GeneralDistillation.run(teacher, descriptor.id(), settings, options(file, corpus, 0),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        GeneralStudent general = GeneralStudent.read(file, Kernels.gemm());

        Map<String, String> job = new HashMap<>(settings);
        job.putAll(Map.of("student.init", "general:" + file, "student.task", "EMBEDDING", "student.output.dim", "384"));
        Learner embedding = TrainerConfig.forStudent(job).newLearner(teacher.tokenizer().vocabSize());
        int[] ids = teacher.tokenizer().encode("streams of text arrive all day");
        assertThat(embedding.predict(ids)).containsExactly(general.learner().predict(ids));

        job.putAll(Map.of("student.task", "CLASSIFICATION", "student.classes", "x,y,z"));
        Learner classifier = TrainerConfig.forStudent(job).newLearner(teacher.tokenizer().vocabSize());
        assertThat(classifier.describe()).startsWith("transformer 1x32").endsWith("-> 3 classes");

        // demo, train and replay lay a general file's student settings between the preset's and the user's.
        Map<String, String> layered = TeacherBlocks.layered(Preset.FAST, Map.of("student.init", "general:" + file,
                "student.max.tokens", "24"));
        assertThat(layered).containsEntry("student.arch", "transformer").containsEntry("student.max.tokens", "24")
                .containsEntry("student.init", "general:" + file);
        assertThat(GeneralStudent.readInfo(file)).isEqualTo(general.info());

        job.put("student.arch", "bag");
        assertThatThrownBy(() -> TrainerConfig.forStudent(job).newLearner(teacher.tokenizer().vocabSize()))
                .hasMessageContaining("holds a transformer student; student.arch is bag");
    }

    /**
     * The balanced preset's transformer, made small (a random 1x32 encoder over MiniLM's vocabulary) so that the
     * test stays in a 1 GB heap and a few seconds; the teacher-block start is PresetTest's.
     */
    private static Map<String, String> studentSettings(Path dir) {
        Map<String, String> overrides = new HashMap<>(Map.of("student.init", "random", "student.transformer.layers", "1",
                "student.transformer.width", "32", "student.transformer.heads", "2", "student.transformer.ffn", "64",
                "student.max.tokens", "32", "training.learningRate", "0.003"));
        return DistillGeneralCommand.settings(Preset.BALANCED, overrides, descriptor, teacher);
    }

    private static GeneralDistillation.Options options(Path out, Path corpus, int stopAfter) {
        return new GeneralDistillation.Options(out, List.of(corpus), 0, 16, Duration.ofHours(1), stopAfter);
    }

    /** Generic sentences of a few shapes, none repeated. */
    static Path sentences(Path file, int n) throws Exception {
        String[] subjects = {"the river", "a small engine", "my neighbour", "the committee", "an old violin", "the morning train",
                "our garden", "the new library", "a quiet student", "the harbour lights"};
        String[] verbs = {"carried", "described", "repaired", "ignored", "welcomed", "measured", "painted", "followed"};
        String[] objects = {"the letters", "every visitor", "a broken bridge", "the long report", "two hungry cats", "the evening news",
                "a forgotten song", "the winter coats", "its own shadow"};
        String[] tails = {"before noon", "without a word", "in the rain", "for the third time", "with great care", "after the storm"};
        Random rng = new Random(11);
        List<String> lines = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        while (lines.size() < n) {
            String s = subjects[rng.nextInt(subjects.length)] + " " + verbs[rng.nextInt(verbs.length)] + " "
                    + objects[rng.nextInt(objects.length)] + " " + tails[rng.nextInt(tails.length)] + ".";
            if (seen.add(s)) {
                lines.add(Character.toUpperCase(s.charAt(0)) + s.substring(1));
            }
        }
        Files.write(file, lines, StandardCharsets.UTF_8);
        return file;
    }
}
