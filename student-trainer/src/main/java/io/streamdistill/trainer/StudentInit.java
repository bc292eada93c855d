package io.streamdistill.trainer;

import io.streamdistill.records.TeacherRef;
import io.streamdistill.student.init.StaticTable;
import io.streamdistill.student.init.GeneralStart;
import io.streamdistill.student.init.GeneralStudent;
import io.streamdistill.student.init.WarmStart;
import io.streamdistill.student.model.StudentConfig;
import io.streamdistill.student.model.Task;
import io.streamdistill.student.train.Learner;
import io.streamdistill.student.train.Learners;
import io.streamdistill.student.train.StudentTrainer;
import io.streamdistill.student.transformer.BertOnnxWeights;
import io.streamdistill.student.transformer.EncoderParams;
import io.streamdistill.student.transformer.EncoderSpec;
import io.streamdistill.student.transformer.TransformerStudent;
import io.streamdistill.student.transformer.TransformerTrainer;
import io.streamdistill.student.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * How a new student starts ({@code student.init}): {@code random} (drawn from {@code student.seed}),
 * or {@code static:FILE}, a static table distilled from the teacher ({@code streamdistill
 * distill-static}), with the teacher's head in {@code student.init.head} for classification. A
 * warm-started student works before it has trained on anything, so the trainer publishes it at once.
 * Either architecture may also start from {@code general:FILE}, a student general-distilled over generic
 * text ({@code streamdistill distill-general}; see {@link GeneralStart}).
 */
record StudentInit(String mode, Path table, Path head, WarmStart.Back map, Arch arch, Path teacher, Blocks blocks,
                   TransformerShape shape, Path general) {
    static final String RANDOM = "random";
    static final String STATIC = "static:";
    static final String TEACHER = "teacher:";
    /** Either architecture: a general-distilled student ({@code streamdistill distill-general}). */
    static final String GENERAL = "general:";

    /** The student architectures the job trains, behind one seam ({@link Learner}). */
    enum Arch { BAG, TRANSFORMER }

    /** student.transformer.* for a transformer started from random weights. */
    record TransformerShape(int layers, int width, int heads, int ffn, int maxPositions, EncoderSpec.Pooling pooling) {
    }

    /**
     * Which of the teacher's blocks a transformer takes ({@code student.init.blocks}): the ones named
     * ({@code 1,3,5}), or the last {@code K} taken every other block ending with the last ({@code last:K},
     * what the presets say, whatever the teacher's depth), or, blank, every other block ending with the last.
     */
    record Blocks(int[] named, int last) {
        static final String LAST = "last:";

        static Blocks parse(String setting) {
            String s = setting.trim();
            if (s.isEmpty()) {
                return new Blocks(null, 0);
            }
            try {
                if (s.startsWith(LAST)) {
                    int k = Integer.parseInt(s.substring(LAST.length()).trim());
                    if (k < 1 || k > 6) {
                        throw new IllegalArgumentException("student.init.blocks=" + s + ": K must be in 1..6");
                    }
                    return new Blocks(null, k);
                }
                return new Blocks(java.util.Arrays.stream(s.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray(), 0);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("student.init.blocks must be block numbers separated by commas (1,3,5) or last:K,"
                        + " got '" + s + "'");
            }
        }

        /** The block numbers for a teacher of {@code teacherLayers} blocks. */
        int[] of(int teacherLayers) {
            if (named != null) {
                return named;
            }
            int k = last > 0 ? last : Math.max(1, teacherLayers / 2);
            if (k > (teacherLayers + 1) / 2) {
                throw new IllegalArgumentException("student.init.blocks=last:" + k + " takes every other block, but the teacher has "
                        + teacherLayers + ": at most last:" + (teacherLayers + 1) / 2);
            }
            return everyOther(teacherLayers, k);
        }
    }

    /** Parses and checks the settings (files are read when the student is built). */
    static StudentInit of(TrainerConfig config) {
        String init = config.string("student.init").trim();
        String head = config.string("student.init.head").trim();
        Arch arch = switch (config.string("student.arch").trim().toLowerCase(java.util.Locale.ROOT)) {
            case "bag" -> Arch.BAG;
            case "transformer" -> Arch.TRANSFORMER;
            default -> throw new IllegalArgumentException("student.arch must be bag or transformer, got '" + config.string("student.arch")
                    + "'");
        };
        if (init.startsWith(GENERAL)) {
            if (arch == Arch.TRANSFORMER) {
                refuseBagOnlyTraining(config);
            }
            if (init.length() == GENERAL.length()) {
                throw new IllegalArgumentException("student.init=general:FILE needs the file (made by streamdistill distill-general)");
            }
            return new StudentInit("general", null, head.isEmpty() ? null : Path.of(head), null, arch, null, null, null,
                    Path.of(init.substring(GENERAL.length())));
        }
        if (arch == Arch.TRANSFORMER) {
            return transformer(config, init);
        }
        if (init.equals(RANDOM)) {
            return new StudentInit(RANDOM, null, null, null, arch, null, null, null, null);
        }
        if (!init.startsWith(STATIC) || init.length() == STATIC.length()) {
            throw new IllegalArgumentException("student.init must be 'random' or 'static:FILE' (a table from streamdistill"
                    + " distill-static) for student.arch=bag, got '" + init + "'");
        }
        if (config.task() == Task.CLASSIFICATION && head.isEmpty()) {
            throw new IllegalArgumentException("student.init=" + init + " for a CLASSIFICATION student needs student.init.head=FILE,"
                    + " the teacher's head (the demo and `streamdistill train --teacher` write it)");
        }
        String map = config.string("student.init.map").trim().toLowerCase(java.util.Locale.ROOT);
        WarmStart.Back back = switch (map) {
            // Measured across corpora (docs/benchmarks.md): the basis for classification, the fitted map for embeddings.
            case "", "auto" -> config.task() == Task.CLASSIFICATION ? WarmStart.Back.BASIS : WarmStart.Back.FITTED;
            case "basis" -> WarmStart.Back.BASIS;
            case "fitted" -> WarmStart.Back.FITTED;
            default -> throw new IllegalArgumentException("student.init.map must be auto, basis or fitted, got '" + map + "'");
        };
        return new StudentInit("static", Path.of(init.substring(STATIC.length())), head.isEmpty() ? null : Path.of(head), back, arch,
                null, null, null, null);
    }

    private static void refuseBagOnlyTraining(TrainerConfig config) {
        if (config.trainingConfig().featureBeta() > 0 || config.trainingConfig().tokenDropout() > 0) {
            throw new IllegalArgumentException("student.arch=transformer does not take training.featureBeta or training.tokenDropout"
                    + " yet: leave them at 0");
        }
    }

    private static StudentInit transformer(TrainerConfig config, String init) {
        refuseBagOnlyTraining(config);
        EncoderSpec.Pooling pooling = switch (config.string("student.transformer.pooling").trim().toLowerCase(java.util.Locale.ROOT)) {
            case "mean" -> EncoderSpec.Pooling.MEAN;
            case "cls" -> EncoderSpec.Pooling.CLS;
            default -> throw new IllegalArgumentException("student.transformer.pooling must be mean or cls, got '"
                    + config.string("student.transformer.pooling") + "'");
        };
        TransformerShape shape = new TransformerShape(config.integer("student.transformer.layers"), config.integer("student.transformer.width"),
                config.integer("student.transformer.heads"), config.integer("student.transformer.ffn"), config.integer("student.max.tokens"),
                pooling);
        // Checked now, so that a bad shape names its setting at start-up.
        try {
            new EncoderSpec(1, shape.width(), shape.layers(), shape.heads(), shape.ffn(), config.integer("student.max.tokens"), 0, 1e-12f,
                    pooling);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("student.transformer.*: " + e.getMessage(), e);
        }
        if (shape.layers() < 1 || shape.layers() > 6) {
            throw new IllegalArgumentException("student.transformer.layers must be in 1..6, got " + shape.layers());
        }
        if (init.equals(RANDOM)) {
            return new StudentInit(RANDOM, null, null, null, Arch.TRANSFORMER, null, null, shape, null);
        }
        if (!init.startsWith(TEACHER) || init.length() == TEACHER.length()) {
            throw new IllegalArgumentException("student.init must be 'random' or 'teacher:FILE' (a BERT-style ONNX encoder whose blocks"
                    + " the student takes) for student.arch=transformer, got '" + init + "'");
        }
        Blocks chosen = Blocks.parse(config.string("student.init.blocks"));
        String head = config.string("student.init.head").trim();
        return new StudentInit(TEACHER, null, head.isEmpty() ? null : Path.of(head), null, Arch.TRANSFORMER,
                Path.of(init.substring(TEACHER.length())), chosen, shape, null);
    }

    /** Whether the new student starts from its teacher (a static table, or the teacher's own blocks): it is published at once. */
    boolean warm() {
        return table != null || teacher != null || general != null;
    }

    /**
     * The student to train: {@code config} gives its task, classes and outputs (and the bag's shape), the
     * architecture and initialisation come from these settings.
     */
    Learner create(StudentConfig config, TrainingConfig training) {
        if (general != null) {
            return fromGeneral(config, training);
        }
        if (arch == Arch.TRANSFORMER) {
            return transformer(config, training);
        }
        if (!warm()) {
            return StudentTrainer.create(config, training);
        }
        WarmStart.TeacherHead teacherHead = null;
        if (config.task() == Task.CLASSIFICATION) {
            if (!Files.isRegularFile(head)) {
                throw new IllegalArgumentException("student.init.head " + head + " does not exist");
            }
            teacherHead = WarmStart.TeacherHead.read(head);
        }
        return StudentTrainer.create(WarmStart.student(config, readTable(), teacherHead, map), training);
    }

    /** The task's student from a general-distilled one: its table or encoder, and the teacher's head composed with its map. */
    private Learner fromGeneral(StudentConfig config, TrainingConfig training) {
        GeneralStudent g = GeneralStudent.read(general, Learners.defaultGemm());
        String fileArch = g.learner().architecture();
        if (!fileArch.equals(arch.name().toLowerCase(java.util.Locale.ROOT))) {
            throw new IllegalArgumentException("student.init=general:" + general + " holds a " + fileArch + " student; student.arch is "
                    + arch.name().toLowerCase(java.util.Locale.ROOT) + " (set it to " + fileArch + ", or make the file with that preset)");
        }
        WarmStart.TeacherHead teacherHead = null;
        if (config.task() == Task.CLASSIFICATION && head != null) {
            if (!Files.isRegularFile(head)) {
                throw new IllegalArgumentException("student.init.head " + head + " does not exist");
            }
            teacherHead = WarmStart.TeacherHead.read(head);
        }
        try {
            return GeneralStart.forTask(g, config, training, teacherHead, Learners.defaultGemm());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("student.init=general:" + general + ": " + e.getMessage(), e);
        }
    }

    private Learner transformer(StudentConfig config, TrainingConfig training) {
        EncoderParams encoder;
        if (teacher != null) {
            BertOnnxWeights weights;
            try {
                weights = BertOnnxWeights.read(teacher);
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("student.init=teacher:" + teacher + " cannot be read: " + e.getMessage(), e);
            }
            int[] take = blocks.of(weights.layers());
            encoder = weights.take(shape.pooling(), take);
            if (encoder.spec().maxPositions() < shape.maxPositions()) {
                throw new IllegalArgumentException("student.init=teacher:" + teacher + " holds " + encoder.spec().maxPositions()
                        + " positions, fewer than student.max.tokens=" + shape.maxPositions());
            }
            if (encoder.spec().vocab() != config.vocabSize()) {
                throw new IllegalArgumentException("student.init=teacher:" + teacher + " has " + encoder.spec().vocab() + " tokens; the"
                        + " student's tokenizer (student.tokenizer) has " + config.vocabSize());
            }
        } else {
            encoder = EncoderParams.random(new EncoderSpec(config.vocabSize(), shape.width(), shape.layers(), shape.heads(), shape.ffn(),
                    shape.maxPositions(), 0, 1e-12f, shape.pooling()), config.seed());
        }
        return new TransformerTrainer(withHead(config, encoder), training, Learners.defaultGemm());
    }

    /**
     * The student's head: from a teacher started from its own blocks, the teacher's head (its linear head file for
     * classification, on the unit pooled vector when the teacher's is; the identity for an embedding of the teacher's
     * width), so that version 1 already answers as the teacher's blocks allow; else random.
     */
    private TransformerStudent withHead(StudentConfig config, EncoderParams encoder) {
        int width = encoder.spec().width();
        if (teacher != null && config.task() == Task.CLASSIFICATION && head != null) {
            if (!Files.isRegularFile(head)) {
                throw new IllegalArgumentException("student.init.head " + head + " does not exist");
            }
            WarmStart.TeacherHead h = WarmStart.TeacherHead.read(head);
            if (!h.classes().equals(config.classNames())) {
                throw new IllegalArgumentException("student.init.head " + head + " has classes " + h.classes() + "; student.classes are "
                        + config.classNames());
            }
            return new TransformerStudent(config.task(), config.classNames(), config.outputDim(), encoder, h.unitInput())
                    .headFrom(h.weights(), h.bias());
        }
        TransformerStudent student = new TransformerStudent(config.task(), config.classNames(), config.outputDim(), encoder);
        if (teacher != null && config.task() == Task.EMBEDDING && config.outputDim() == width) {
            float[][] identity = new float[width][width];
            for (int i = 0; i < width; i++) {
                identity[i][i] = 1f;
            }
            return student.headFrom(identity, new float[width]);
        }
        return student.initHead(config.seed() + 1);
    }

    /** DistilBERT's choice: {@code n} blocks of the teacher, every other one, ending with its last (1, 3, 5 of 6 for n=3). */
    static int[] everyOther(int teacherBlocks, int n) {
        int[] b = new int[n];
        for (int i = 0; i < n; i++) {
            b[i] = teacherBlocks - 1 - 2 * (n - 1 - i);
        }
        return b;
    }

    /** The teacher the table came from, for the checkpoint record of a version trained on nothing yet. */
    TeacherRef teacherRef() {
        if (general != null) {
            Map<String, String> info = GeneralStudent.readInfo(general);
            return TeacherRef.newBuilder().setModelId(info.getOrDefault("teacher", "")).setSha256(info.getOrDefault("teacher_sha256", ""))
                    .setTokenizer(info.getOrDefault("tokenizer", "")).build();
        }
        if (teacher != null) {
            try {
                return TeacherRef.newBuilder().setModelId(teacher.getFileName().toString())
                        .setSha256(io.streamdistill.student.Hashing.sha256(Files.readAllBytes(teacher))).setTokenizer("").build();
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("student.init=teacher:" + teacher + " cannot be read: " + e.getMessage(), e);
            }
        }
        StaticTable t = readTable();
        return TeacherRef.newBuilder().setModelId(t.teacher()).setSha256(t.teacherSha256())
                .setTokenizer(t.info().getOrDefault("tokenizer", "")).build();
    }

    private StaticTable readTable() {
        if (!Files.isRegularFile(table)) {
            throw new IllegalArgumentException("student.init=static:" + table + ": the file does not exist (make it with"
                    + " streamdistill distill-static)");
        }
        return StaticTable.read(table);
    }
}
