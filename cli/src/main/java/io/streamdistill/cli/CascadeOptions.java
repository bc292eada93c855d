package io.streamdistill.cli;

import io.streamdistill.schemas.Topics;
import io.streamdistill.serving.Cascade;
import io.streamdistill.serving.CascadeHoldout;
import io.streamdistill.teacher.cascade.CascadeTeacher;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** What serve and classify-stream take to answer through a cascade: {@code --cascade}, {@code --teacher}, {@code --topic}, {@code --holdout-texts}. */
final class CascadeOptions {
    @Option(names = "--cascade", description = "answer from the teacher where the student is unsure: teacher-calls=SHARE (at most"
            + " that share of texts to the teacher) or agreement=SHARE (the fewest teacher calls reaching that agreement), calibrated"
            + " per version on the trainer's held-out soft targets; classification students only")
    String cascade;

    @Option(names = "--teacher", description = "with --cascade: the teacher, a built-in id, descriptor or directory (default: the"
            + " demo's teacher.json in --data-dir)")
    String teacherName;

    @Option(names = "--topic", defaultValue = Topics.SOFT_TARGETS, description = "with --cascade: the soft targets whose held-out"
            + " records calibrate it (default: ${DEFAULT-VALUE})")
    String softTargets;

    @Option(names = "--holdout-texts", defaultValue = "2000", description = "with --cascade: calibrate on at most this many held-out"
            + " texts (default: ${DEFAULT-VALUE})")
    int holdoutTexts;

    /** The target, checked; null without --cascade. */
    Cascade.Target target() {
        if (holdoutTexts < 10) {
            throw new IllegalArgumentException("--holdout-texts must be >= 10, got " + holdoutTexts);
        }
        return cascade == null ? null : Cascade.Target.parse(cascade);
    }

    /** The teacher; null without --cascade. */
    CascadeTeacher teacher(Path dataDir) {
        return cascade == null ? null : CascadeTeacher.load(teacherName, dataDir);
    }

    /** The cascade for {@code student} with {@code teacher}, calibrated on its held-out soft targets; null without --cascade. */
    Cascade open(CascadeTeacher teacher, ClusterOptions.Cluster c, String checkpointsTopic, String student) {
        Cascade.Target target = target();
        if (target == null) {
            return null;
        }
        Cascade built = new Cascade(teacher, target, CascadeHoldout.read(c.settings(), checkpointsTopic, student, softTargets,
                holdoutTexts, teacher.classNames()));
        System.out.printf("cascade: %s answers where the student is unsure (%s, calibrated per version on held-out texts of %s)%n",
                teacher.id(), target, softTargets);
        return built;
    }
}
