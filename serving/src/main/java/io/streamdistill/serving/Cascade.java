package io.streamdistill.serving;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cascade serving: a classification student answers a text when its confidence (its top probability)
 * clears a threshold, the teacher answers the others. The threshold is set per student version from a
 * target (a share of teacher calls, or an agreement with the teacher), calibrated on texts the trainer
 * held out of training, whose teacher labels are known: the least confident share of them goes to the
 * teacher, and the estimate of agreement is what the cascade would have scored on them.
 */
public final class Cascade {

    /** The large model, in process: class probabilities in the student's class order. Must be safe to call from many threads. */
    public interface Teacher {
        String id();

        float[][] probabilities(List<String> texts);
    }

    /** What the threshold is chosen for: at most this share of texts to the teacher, or at least this agreement. */
    public record Target(Kind kind, double value) {
        public enum Kind { TEACHER_CALLS, AGREEMENT }

        public Target {
            if (!(value >= 0 && value <= 1)) {
                throw new IllegalArgumentException("a cascade target is a share in [0, 1], got " + value);
            }
        }

        /** {@code teacher-calls=0.25} or {@code agreement=0.97}. */
        public static Target parse(String s) {
            String[] kv = s.split("=", 2);
            double value;
            try {
                value = kv.length == 2 ? Double.parseDouble(kv[1].trim()) : Double.NaN;
            } catch (NumberFormatException e) {
                value = Double.NaN;
            }
            Kind kind = switch (kv[0].trim().toLowerCase(Locale.ROOT)) {
                case "teacher-calls" -> Kind.TEACHER_CALLS;
                case "agreement" -> Kind.AGREEMENT;
                default -> null;
            };
            if (kind == null || Double.isNaN(value)) {
                throw new IllegalArgumentException("--cascade must be teacher-calls=SHARE or agreement=SHARE (e.g. teacher-calls=0.25),"
                        + " got '" + s + "'");
            }
            return new Target(kind, value);
        }

        @Override
        public String toString() {
            return (kind == Kind.TEACHER_CALLS ? "teacher-calls=" : "agreement=") + value;
        }
    }

    /** A held-out text and the class its teacher gave it. */
    public record HoldoutText(String text, int teacherLabel) {
    }

    /**
     * The threshold for one student version, with what it gave on the holdout: the share of texts sent to the
     * teacher and the agreement with the teacher of the cascade's answers.
     */
    public record Calibration(long version, double threshold, double teacherShare, double agreement, double studentAgreement,
                              int holdout) {

        /**
         * @param confidence the student's top probability per held-out text
         * @param agrees     whether the student's class is the teacher's, per text
         */
        public static Calibration fit(long version, float[] confidence, boolean[] agrees, Target target) {
            int n = confidence.length;
            if (n == 0) {
                throw new IllegalArgumentException("no held-out texts to calibrate the cascade on");
            }
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Float.compare(confidence[a], confidence[b]));
            // agreeAbove[k]: texts the student agrees on among the n - k most confident.
            int[] agreeAbove = new int[n + 1];
            for (int k = n - 1; k >= 0; k--) {
                agreeAbove[k] = agreeAbove[k + 1] + (agrees[order[k]] ? 1 : 0);
            }
            int k;
            if (target.kind() == Target.Kind.TEACHER_CALLS) {
                k = (int) Math.floor(target.value() * n + 1e-9);
            } else {
                k = n;
                for (int j = 0; j <= n; j++) {
                    if ((j + agreeAbove[j]) / (double) n >= target.value()) {
                        k = j;
                        break;
                    }
                }
            }
            double threshold = k == n ? Double.POSITIVE_INFINITY : k == 0 ? 0 : confidence[order[k]];
            // Ties at the threshold answer from the student: count what the threshold really sends.
            int toTeacher = 0;
            int agreed = 0;
            for (int i = 0; i < n; i++) {
                if (confidence[i] < threshold) {
                    toTeacher++;
                    agreed++;
                } else if (agrees[i]) {
                    agreed++;
                }
            }
            return new Calibration(version, threshold, toTeacher / (double) n, agreed / (double) n, agreeAbove[0] / (double) n, n);
        }
    }

    /** One text's answer and who gave it. */
    public record Answer(float[] probabilities, boolean byTeacher) {
    }

    private final Teacher teacher;
    private final Target target;
    private final List<HoldoutText> holdout;
    private final Map<Long, Calibration> calibrations = new ConcurrentHashMap<>();
    private final AtomicLong texts = new AtomicLong();
    private final AtomicLong teacherTexts = new AtomicLong();

    public Cascade(Teacher teacher, Target target, List<HoldoutText> holdout) {
        if (holdout.isEmpty()) {
            throw new IllegalArgumentException("the cascade needs held-out texts with teacher labels to calibrate on; none were found");
        }
        this.teacher = teacher;
        this.target = target;
        this.holdout = List.copyOf(holdout);
    }

    /** The version's calibration, computed the first time it is asked for (the follower asks before the version serves). */
    public Calibration calibration(ServedModel m) {
        return calibrations.computeIfAbsent(m.version(), v -> calibrate(m));
    }

    private Calibration calibrate(ServedModel m) {
        if (!m.task().equals("CLASSIFICATION")) {
            throw new IllegalStateException("a cascade answers classification students; '" + m.student() + "' version " + m.version()
                    + " is " + m.task());
        }
        float[] confidence = new float[holdout.size()];
        boolean[] agrees = new boolean[holdout.size()];
        for (int from = 0; from < holdout.size(); from += 64) {
            List<HoldoutText> part = holdout.subList(from, Math.min(holdout.size(), from + 64));
            float[][] p = m.score(part.stream().map(HoldoutText::text).toList());
            for (int i = 0; i < part.size(); i++) {
                int best = argmax(p[i]);
                confidence[from + i] = p[i][best];
                agrees[from + i] = best == part.get(i).teacherLabel();
            }
        }
        return Calibration.fit(m.version(), confidence, agrees, target);
    }

    /** The answers for a request the student scored ({@code studentOut}): its own where confident, the teacher's otherwise. */
    public List<Answer> answer(ServedModel m, List<String> input, float[][] studentOut) {
        double threshold = calibration(m).threshold();
        List<Integer> unsure = new ArrayList<>();
        for (int i = 0; i < input.size(); i++) {
            if (studentOut[i][argmax(studentOut[i])] < threshold) {
                unsure.add(i);
            }
        }
        float[][] fromTeacher = unsure.isEmpty() ? new float[0][] : teacher.probabilities(unsure.stream().map(input::get).toList());
        List<Answer> out = new ArrayList<>();
        int t = 0;
        for (int i = 0; i < input.size(); i++) {
            boolean byTeacher = t < unsure.size() && unsure.get(t) == i;
            out.add(new Answer(byTeacher ? fromTeacher[t++] : studentOut[i], byTeacher));
        }
        texts.addAndGet(input.size());
        teacherTexts.addAndGet(unsure.size());
        return out;
    }

    /** What /v1/model shows of the cascade for the version serving. */
    public Map<String, Object> describe(ServedModel m) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("teacher", teacher.id());
        d.put("target", target.toString());
        Calibration c = calibration(m);
        d.put("threshold", Double.isInfinite(c.threshold()) ? "all to the teacher" : c.threshold());
        d.put("holdout_texts", c.holdout());
        d.put("estimated_teacher_share", c.teacherShare());
        d.put("estimated_agreement", c.agreement());
        d.put("student_alone_agreement", c.studentAgreement());
        d.put("texts", texts.get());
        d.put("teacher_texts", teacherTexts.get());
        return d;
    }

    public long texts() {
        return texts.get();
    }

    public long teacherTexts() {
        return teacherTexts.get();
    }

    static int argmax(float[] p) {
        int best = 0;
        for (int k = 1; k < p.length; k++) {
            best = p[k] > p[best] ? k : best;
        }
        return best;
    }
}
