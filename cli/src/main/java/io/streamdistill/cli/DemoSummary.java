package io.streamdistill.cli;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamdistill.artifacts.ArtifactReader;
import io.streamdistill.monitor.Monitor;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.service.Metrics;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The demo's summary: teacher vs student on the held-out corpus rows and the run's counts, as JSON and as a table. */
record DemoSummary(ObjectNode json, boolean classification) {
    /** Teacher vs student on the held-out corpus rows, and the run's counts. */
    /** A published version read from wherever the trainer wrote it (the demo's directory or its object store) and verified. */
    private static StudentRunner load(StudentCheckpoint version, ArtifactReader artifacts, Teacher teacher) throws IOException {
        URI uri = URI.create(version.getArtifact().getUri());
        return StudentRunner.verified(artifacts.read(uri), version.getArtifact().getSha256(), uri.toString(), teacher.tokenizer(), 1);
    }

    static DemoSummary summarize(long produced, Metrics m, double teacherRate, CheckpointWatcher watcher, Teacher teacher,
                              List<Corpus.Row> eval, boolean classification, Instant started, ArtifactReader artifacts) throws IOException {
        ObjectNode json = new ObjectMapper().createObjectNode();
        json.put("records_produced", produced);
        json.put("soft_targets", m.softTargets());
        json.put("dead_letters", m.deadLetters());
        // Adaptive sampling: records the teacher never ran on, by reason (none when it is off).
        json.put("teacher_skipped", m.skipped());
        json.put("checkpoints_published", watcher.all.size());
        // Bounded by --rate when the teacher keeps up: records handled per second from the first one produced to the last.
        json.put("teacher_records_per_second", teacherRate);
        StudentCheckpoint last = watcher.last.get();
        DemoSummary summary = new DemoSummary(json, classification);
        Path teacherFile = teacher.descriptor().model();
        json.put("teacher_bytes", Files.size(teacherFile));
        json.put("teacher_parameters", onnxParameters(Files.readAllBytes(teacherFile)));
        if (last == null) {
            json.put("elapsed_seconds", Duration.between(started, Instant.now()).toSeconds());
            return summary;
        }
        ObjectNode lc = json.putObject("last_checkpoint");
        lc.put("version", last.getVersion());
        lc.put("uri", last.getArtifact().getUri());
        lc.put("sha256", last.getArtifact().getSha256());
        json.put("student_bytes", last.getArtifact().getBytes());
        json.put("student_parameters", last.getParameters());
        json.put("trainer_records_per_second",
                last.getRecordsSeen() / Math.max(1e-3, Duration.between(started, last.getCreatedAt()).toMillis() / 1000.0));

        List<String> texts = eval.stream().map(Corpus.Row::text).toList();
        int[][] ids = teacher.tokenizer().encode(texts);
        StudentCheckpoint first = watcher.all.isEmpty() ? null : watcher.all.get(0);
        if (first != null && first != last) {
            // The first published version, measured like the last: for a warm start, the student before any training.
            try (StudentRunner student = load(first, artifacts, teacher)) {
                StudentVsTeacher.Quality q = StudentVsTeacher.compare(teacher, student, classification ? first.getClassNames() : List.of(), eval);
                json.put(classification ? "initial_agreement" : "initial_cosine", q.agreement());
                json.put("initial_version", first.getVersion());
                json.put("initial_records_seen", first.getRecordsSeen());
            }
        }
        try (StudentRunner student = load(last, artifacts, teacher)) {
            StudentVsTeacher.Quality q = StudentVsTeacher.compare(teacher, student, classification ? last.getClassNames() : List.of(), eval);
            json.put(classification ? "holdout_agreement" : "holdout_cosine", q.agreement());
            if (q.labelled() > 0) {
                json.put("teacher_label_accuracy", q.teacherAccuracy());
                json.put("student_label_accuracy", q.studentAccuracy());
            }
            json.put("eval_texts", texts.size());
            // Speed through ONNX Runtime at batch 32, one thread each.
            double teacherSeconds = time(() -> teacher.infer(slice(ids, 32)), 3);
            double studentSeconds = time(() -> student.scoreIds(slice(ids, 32)), 30);
            json.put("teacher_ms_per_record", teacherSeconds * 1000 / 32);
            json.put("student_ms_per_record", studentSeconds * 1000 / 32);
            json.put("student_speedup", teacherSeconds / studentSeconds);
        }
        json.put("elapsed_seconds", Duration.between(started, Instant.now()).toSeconds());
        return summary;
    }

    private static int[][] slice(int[][] ids, int n) {
        return java.util.Arrays.copyOf(ids, Math.min(n, ids.length));
    }

    /** Mean seconds per call after one warm-up call. */
    private static double time(Runnable r, int repeats) {
        r.run();
        long t0 = System.nanoTime();
        for (int i = 0; i < repeats; i++) {
            r.run();
        }
        return (System.nanoTime() - t0) / 1e9 / repeats;
    }

    private static long onnxParameters(byte[] model) throws IOException {
        long n = 0;
        for (OnnxMl.TensorProto t : OnnxMl.ModelProto.parseFrom(model).getGraph().getInitializerList()) {
            long size = 1;
            for (long d : t.getDimsList()) {
                size *= d;
            }
            n += size;
        }
        return n;
    }

    /** What the monitor saw: its URL, and the newest version's live holdout score. */
    void addMonitor(Monitor monitor) {
        ObjectNode m = json.putObject("monitor");
        m.put("dashboard_url", monitor.url());
        try {
            Map<String, Object> s = monitor.summary();
            m.set("summary", new ObjectMapper().valueToTree(s));
        } catch (RuntimeException e) {
            m.put("unavailable", e.getMessage());
        }
    }

    /**
     * Where every line of the corpus file went. When each streamed text was sent once (records no more
     * than the stream's rows), the lines add up: read = soft targets + dead letters + teacher skips +
     * blank + bad lines skipped + refused + rows held out for the summary.
     */
    void addLines(Corpus corpus, DemoCommand.Produced sent, OnBadLine policy, int heldOut, int streamRows) {
        ObjectNode l = json.putObject("lines");
        TextFile.Contents c = corpus.contents();
        long badSkipped = policy == OnBadLine.SKIP ? c.bad().size() : 0;
        // A CSV's header, and the extra lines of a record quoted across lines, are not records of their own.
        l.put("read", corpus.rows().size() + c.blank() + c.bad().size());
        l.put("physical_lines", c.physicalLines());
        l.put("texts", corpus.rows().size());
        l.put("blank", c.blank());
        l.put("bad", c.bad().size());
        l.put("bad_sent", sent.badSent());
        l.put("bad_skipped", badSkipped);
        l.put("refused", sent.refused());
        l.put("held_out_for_eval", heldOut);
        boolean once = sent.texts() == streamRows;
        l.put("each_line_once", once);
        if (once) {
            long accounted = json.path("soft_targets").asLong() + json.path("dead_letters").asLong() + json.path("teacher_skipped").asLong()
                    + c.blank() + badSkipped + sent.refused() + heldOut;
            l.put("accounted", accounted);
        }
        Map<String, Long> byProblem = new java.util.TreeMap<>();
        c.bad().forEach(b -> byProblem.merge(b.problem().name(), 1L, Long::sum));
        l.set("bad_by_problem", new ObjectMapper().valueToTree(byProblem));
    }

    /** Which head the classification teacher had, and why. */
    /** Where the trainer's job ran: {@code mode} local (a MiniCluster in the demo's JVM) or cluster, and its job id. */
    void addFlink(Map<String, Object> flink, int trainerParallelism) {
        json.set("flink", new ObjectMapper().valueToTree(flink));
        json.put("trainer_parallelism", trainerParallelism);
    }

    void addTeacherHead(DemoTeacher.Choice head) {
        ObjectNode h = json.putObject("teacher_head");
        h.put("type", head.head());
        h.put("reason", head.reason());
        if (head.fit() != null) {
            h.put("cv_accuracy", head.fit().head().accuracy());
            h.put("prototype_cv_accuracy", head.fit().prototypes().accuracy());
            h.put("labelled_rows", head.fit().rows());
        }
    }

    String toJson() throws IOException {
        return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json);
    }

    void print() {
        String quality = classification ? "holdout_agreement" : "holdout_cosine";
        System.out.println();
        System.out.printf("%-34s %16s %16s%n", "", "teacher", "student");
        System.out.printf("%-34s %16s %16s%n", "parameters", json.path("teacher_parameters").asText("-"),
                json.path("student_parameters").asText("-"));
        System.out.printf("%-34s %16s %16s%n", "file size (bytes)", json.path("teacher_bytes").asText("-"),
                json.path("student_bytes").asText("-"));
        System.out.printf("%-34s %16.3f %16.4f%n", "ms per record (ORT, batch 32)", json.path("teacher_ms_per_record").asDouble(Double.NaN),
                json.path("student_ms_per_record").asDouble(Double.NaN));
        System.out.printf("%-34s %16s %16.3f%n", (classification ? "agreement" : "cosine") + " with teacher (held out)", "1.000",
                json.path(quality).asDouble(Double.NaN));
        String initial = classification ? "initial_agreement" : "initial_cosine";
        if (json.has(initial)) {
            System.out.printf("%-34s %16s %16.3f%n", "  at v" + json.path("initial_version").asLong() + " ("
                    + json.path("initial_records_seen").asLong() + " records trained)", "", json.get(initial).asDouble());
        }
        if (json.has("teacher_label_accuracy")) {
            System.out.printf("%-34s %16.3f %16.3f%n", "label accuracy (held out)", json.get("teacher_label_accuracy").asDouble(),
                    json.get("student_label_accuracy").asDouble());
        }
        System.out.printf("%nstudent speed-up %.0fx | records %d -> soft targets %d + dead letters %d + skipped %d | checkpoints %d | %ds%n",
                json.path("student_speedup").asDouble(Double.NaN), json.path("records_produced").asLong(),
                json.path("soft_targets").asLong(), json.path("dead_letters").asLong(), json.path("teacher_skipped").asLong(),
                json.path("checkpoints_published").asLong(), json.path("elapsed_seconds").asLong());
        JsonNode l = json.path("lines");
        if (!l.isMissingNode() && (l.path("bad").asLong() > 0 || l.path("blank").asLong() > 0)) {
            System.out.printf("corpus records %d: %d texts (%d held out for this summary) + %d blank + %d bad (%d sent and dead-lettered,"
                            + " %d skipped, %d refused as too long)%s%n", l.path("read").asLong(), l.path("texts").asLong(),
                    l.path("held_out_for_eval").asLong(), l.path("blank").asLong(), l.path("bad").asLong(), l.path("bad_sent").asLong(),
                    l.path("bad_skipped").asLong(), l.path("refused").asLong(), l.has("accounted")
                            ? String.format("; accounted for: %d of %d", l.path("accounted").asLong(), l.path("read").asLong()) : "");
        }
    }
}
