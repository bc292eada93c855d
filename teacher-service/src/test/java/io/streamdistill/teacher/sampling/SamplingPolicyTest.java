package io.streamdistill.teacher.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplingPolicyTest {
    static final float[] SURE = {0.95f, 0.03f, 0.01f, 0.01f};
    static final float[] UNSURE = {0.45f, 0.40f, 0.10f, 0.05f};

    static double shareSampled(SamplingPolicy p, float[] output, int n) {
        int sampled = 0;
        for (int i = 0; i < n; i++) {
            sampled += p.decide(output, true).runsTeacher() ? 1 : 0;
        }
        return sampled / (double) n;
    }

    /** Two-class probabilities whose margin (top-1 minus top-2) is {@code margin}. */
    static float[] withMargin(double margin) {
        return new float[] {(float) ((1 + margin) / 2), (float) ((1 - margin) / 2)};
    }

    /** A student as sure on every record as on the last skips all but the random share (~5 %). */
    @Test
    void theRandomShareAlwaysGoes() {
        SamplingPolicy p = new SamplingPolicy(SamplingPolicy.Settings.defaults());
        p.newStudent(0.9);
        assertThat(shareSampled(p, SURE, 20_000)).isBetween(0.04, 0.06);
        assertThat(p.decide(SURE, true).reason()).isIn(SamplingPolicy.Reason.CONFIDENT, SamplingPolicy.Reason.EXPLORATION);
    }

    /**
     * The least sure 15 % of recent records go to the teacher whatever the scale of the student's margins:
     * on margins spread over [0, 1) and again after the student grows ten times surer, the teacher sees
     * about 5 % + 95 % x 15 % of the records, and every record in the lowest tenth of margins.
     */
    @Test
    void theLeastSureShareOfRecentRecordsGoesToTheTeacher() {
        SamplingPolicy p = new SamplingPolicy(SamplingPolicy.Settings.defaults());
        p.newStudent(0.95);
        SplittableRandom r = new SplittableRandom(3);
        for (double scale : new double[] {1.0, 0.1}) {
            int sampled = 0;
            int lowest = 0;
            int lowestSampled = 0;
            for (int i = 0; i < 20_000; i++) {
                double u = r.nextDouble();
                boolean runs = p.decide(withMargin(u * scale), true).runsTeacher();
                if (i >= 1000) { // once the window holds only this scale's margins
                    sampled += runs ? 1 : 0;
                    lowest += u < 0.10 ? 1 : 0;
                    lowestSampled += u < 0.10 && runs ? 1 : 0;
                }
            }
            assertThat(sampled / 19_000.0).as("share sent at scale %s", scale).isBetween(0.175, 0.21);
            assertThat(lowestSampled).as("lowest tenth of margins at scale %s", scale).isEqualTo(lowest);
        }
    }

    /**
     * A new version ten times surer than the last is ranked against its own margins once it has 50 of
     * them, not against the window its predecessor filled (which would send nearly all its records).
     */
    @Test
    void aNewVersionIsRankedAgainstItsOwnMargins() {
        SamplingPolicy p = new SamplingPolicy(SamplingPolicy.Settings.defaults());
        p.newStudent(0.95);
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < 2000; i++) {
            p.decide(withMargin(r.nextDouble()), true);
        }
        p.newStudent(0.95);
        int sampled = 0;
        for (int i = 0; i < 1000; i++) {
            boolean runs = p.decide(withMargin(0.1 * r.nextDouble()), true).runsTeacher();
            sampled += i >= 100 && runs ? 1 : 0;
        }
        assertThat(sampled / 900.0).as("share sent in the new version's records 100..1000").isBetween(0.15, 0.24);
    }

    /**
     * A student the exploration share finds often wrong sends more than the set share: twice its estimated
     * disagreement (sampling.uncertain.factor 2), all of it at 50 % agreement, the set 15 % once it agrees 95 %.
     */
    @Test
    void aStudentThatIsOftenWrongSendsMore() {
        SamplingPolicy p = new SamplingPolicy(SamplingPolicy.Settings.defaults());
        p.newStudent(0.5);
        assertThat(p.uncertainShare()).isEqualTo(1.0);
        SplittableRandom r = new SplittableRandom(5);
        int sampled = 0;
        for (int i = 0; i < 2000; i++) {
            sampled += p.decide(withMargin(r.nextDouble()), true).runsTeacher() ? 1 : 0;
        }
        assertThat(sampled).isEqualTo(2000);
        p.newStudent(0.8);
        assertThat(p.uncertainShare()).isCloseTo(0.4, org.assertj.core.data.Offset.offset(1e-9));
        p.newStudent(0.95);
        assertThat(p.uncertainShare()).isEqualTo(0.15);
        assertThat(new SamplingPolicy(SamplingPolicy.Settings.defaults().withUncertainFactor(0)).uncertainShare()).isEqualTo(0.15);
    }

    /** Each decision says the chance its record had of reaching the teacher: 1 for unsure, the exploration share otherwise. */
    @Test
    void decisionsCarryTheirInclusionProbability() {
        SamplingPolicy p = new SamplingPolicy(SamplingPolicy.Settings.defaults().withUncertainShare(0).withThresholds(0.8, 0));
        p.newStudent(0.9);
        int explored = 0;
        for (int i = 0; i < 2000; i++) {
            SamplingPolicy.Decision unsure = p.decide(UNSURE, true);
            assertThat(unsure.runsTeacher()).isTrue();
            assertThat(unsure.inclusion()).isEqualTo(1.0);
            SamplingPolicy.Decision sure = p.decide(SURE, true);
            assertThat(sure.inclusion()).isEqualTo(0.05);
            explored += sure.reason() == SamplingPolicy.Reason.EXPLORATION ? 1 : 0;
        }
        assertThat(explored).isBetween(70, 130);
        assertThat(SamplingPolicy.Decision.all().inclusion()).isEqualTo(1.0);
    }

    /** Embeddings: far from every labelled record is novel (sampled); close to one is familiar (skipped unless explored). */
    @Test
    void embeddingsFarFromWhatTheTeacherLabelledAreNovel() {
        SamplingPolicy p = new SamplingPolicy(SamplingPolicy.Settings.defaults());
        float[] a = {1, 0, 0};
        float[] nearA = {0.99f, 0.14f, 0};
        float[] b = {0, 0, 1};
        SamplingPolicy.Decision first = p.decide(a, false);
        assertThat(first.runsTeacher()).isTrue();
        p.observe(first, a, false, 0.9);
        int familiar = 0;
        for (int i = 0; i < 1000; i++) {
            SamplingPolicy.Decision d = p.decide(nearA, false);
            familiar += d.reason() == SamplingPolicy.Reason.FAMILIAR ? 1 : 0;
        }
        assertThat(familiar).isBetween(920, 980);
        assertThat(p.decide(b, false).runsTeacher()).isTrue();
    }

    /**
     * A synthetic shift: agreement on the exploration share falls from 1 to 0, the policy sees drift and
     * samples everything; when agreement recovers, it goes back to the random share.
     */
    @Test
    void driftRaisesTheSamplingRateUntilAgreementRecovers() {
        SamplingPolicy p = new SamplingPolicy(SamplingPolicy.Settings.defaults());
        p.newStudent(0.9);
        feed(p, 1.0, 200);
        assertThat(p.drifting()).isFalse();
        assertThat(shareSampled(p, SURE, 4000)).isBetween(0.035, 0.065);

        int exploredUntilDrift = feed(p, 0.0, Integer.MAX_VALUE);
        assertThat(p.drifting()).isTrue();
        assertThat(exploredUntilDrift).as("exploration records until drift is seen").isLessThanOrEqualTo(12);
        assertThat(shareSampled(p, SURE, 2000)).isEqualTo(1.0);
        assertThat(p.decide(SURE, true).inclusion()).isEqualTo(1.0);

        feed(p, 1.0, 50);
        assertThat(p.drifting()).isFalse();
        assertThat(shareSampled(p, SURE, 4000)).isBetween(0.035, 0.065);
    }

    /** Feeds exploration outcomes with this agreement until {@code n} were fed or drift starts; returns how many. */
    static int feed(SamplingPolicy p, double agreement, int n) {
        boolean wasDrifting = p.drifting();
        int fed = 0;
        while (fed < n) {
            SamplingPolicy.Decision d = p.decide(SURE, true);
            if (d.reason() == SamplingPolicy.Reason.EXPLORATION) {
                p.observe(d, SURE, true, agreement);
                fed++;
                if (n == Integer.MAX_VALUE && p.drifting() != wasDrifting) {
                    return fed;
                }
            }
        }
        return fed;
    }

    /** With the version-change test on, a sure record the two newest versions label differently goes to the teacher. */
    @Test
    void aRecordTheTwoNewestVersionsDisagreeOnIsSampled() {
        SamplingPolicy p = new SamplingPolicy(SamplingPolicy.Settings.defaults().withVersionChange(true));
        p.newStudent(0.9);
        shareSampled(p, SURE, 100); // until the margin window is measurable, every record counts as unsure
        float[] other = {0.01f, 0.95f, 0.03f, 0.01f};
        int changed = 0;
        for (int i = 0; i < 1000; i++) {
            changed += p.decide(SURE, other, true).reason() == SamplingPolicy.Reason.CHANGED ? 1 : 0;
        }
        assertThat(changed).as("all but the explored ones").isBetween(920, 980);
        assertThat(shareSampled(p, SURE, 4000)).as("same top-1 in both versions: only the random share").isBetween(0.035, 0.065);
    }

    @Test
    void badSettingsNameTheKeyAndValue() {
        SamplingPolicy.Settings d = SamplingPolicy.Settings.defaults();
        assertThatThrownBy(() -> d.withExploration(0)).hasMessageContaining("sampling.exploration").hasMessageContaining("'0.0'");
        assertThatThrownBy(() -> d.withUncertainShare(1.5)).hasMessageContaining("sampling.uncertain.share").hasMessageContaining("'1.5'");
        assertThatThrownBy(() -> new SamplingPolicy.Settings(0.1, 0.1, 5, 2, 0, 0, 0.35, 0.1, 1, 10, 0.1, 1, false))
                .hasMessageContaining("sampling.uncertain.window");
        assertThatThrownBy(() -> new SamplingPolicy.Settings(0.1, 0.1, 100, 2, 0, 0, 0.35, 0.1, 1, 0, 0.1, 1, false))
                .hasMessageContaining("sampling.memory");
    }
}
