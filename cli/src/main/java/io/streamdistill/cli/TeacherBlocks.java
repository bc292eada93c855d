package io.streamdistill.cli;

import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import io.streamdistill.trainer.Preset;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a transformer student made of its teacher's blocks needs from the teacher (a preset's, or
 * {@code student.init=teacher}): {@code student.init=teacher:<its ONNX file>} and, for a teacher with a
 * classification head, that head as the student's first head ({@code student.init.head}), so version 1
 * answers as the chosen blocks allow. A student from a general-distilled file ({@code general:FILE})
 * takes the head the same way. The demo, train and replay all use it.
 */
final class TeacherBlocks {
    private TeacherBlocks() {
    }

    /** Whether the settings ask for a student made of the teacher's blocks, file not named yet. */
    static boolean wanted(Map<String, String> settings) {
        return Preset.TEACHER_INIT.equals(settings.getOrDefault("student.init", "").trim());
    }

    /** Whether the settings start the student from a general-distilled file ({@code student.init=general:FILE}). */
    static boolean general(Map<String, String> settings) {
        return settings.getOrDefault("student.init", "").trim().startsWith("general:");
    }

    /**
     * A student's settings in layers, the later winning: the preset's (none when null), then, when
     * {@code student.init=general:FILE} is set by either, the student settings the file was made with
     * ({@code student.arch}, the bag's table width and buckets, the tokenizer and length: the job's student
     * must be the file's), then the user's own.
     */
    static Map<String, String> layered(Preset preset, Map<String, String> own) {
        Map<String, String> out = preset == null ? new LinkedHashMap<>() : preset.settings();
        Map<String, String> withOwn = new LinkedHashMap<>(out);
        withOwn.putAll(own);
        if (general(withOwn)) {
            Path file = Path.of(withOwn.get("student.init").trim().substring("general:".length()));
            Map<String, String> info = io.streamdistill.student.init.GeneralStudent.readInfo(file);
            for (String k : new String[] {"student.arch", "student.embedding.dim", "student.bigram.buckets", "student.hidden.dim",
                    "student.tokenizer", "student.max.tokens"}) {
                String v = info.get("setting." + k);
                if (v != null) {
                    out.put(k, v);
                }
            }
        }
        out.putAll(own);
        return out;
    }

    /**
     * The settings with {@code student.init=teacher} resolved against {@code teacher} (loaded from
     * {@code descriptor}); the head goes to {@code headDir}. A setting the user gave is kept.
     */
    static Map<String, String> resolve(Map<String, String> settings, TeacherDescriptor descriptor, Teacher teacher, Path headDir) {
        Map<String, String> out = new LinkedHashMap<>(settings);
        if (!wanted(out) && !general(out)) {
            return out;
        }
        if (wanted(out)) {
            out.put("student.init", "teacher:" + descriptor.model().toAbsolutePath());
        }
        if (teacher.linearHead() != null && !out.containsKey("student.init.head")) {
            Path head = headDir.resolve("teacher-head.json");
            try {
                java.nio.file.Files.createDirectories(headDir);
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("cannot create " + headDir + " for the teacher's head: " + e.getMessage(), e);
            }
            teacher.linearHead().write(head);
            out.put("student.init.head", head.toAbsolutePath().toString());
        }
        return out;
    }
}
