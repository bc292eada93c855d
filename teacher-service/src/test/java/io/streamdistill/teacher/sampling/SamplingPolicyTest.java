package io.streamdistill.teacher.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    /** A sure student skips all but the random share (~10 %); an unsure one sends everything. */
    @Test
    void theRandomShareAlwaysGoesAndUnsureRecordsToo() {
        SamplingPolicy p = new SamplingPolicy(SamplingPolicy.Settings.defaults());
        p.newStudent(0.9);
        assertThat(shareSampled(p, SURE, 20_000)).isBetween(0.09, 0.11);
        assertThat(shareSampled(p, UNSURE, 1000)).isEqualTo(1.0);
        assertThat(p.decide(SURE, true).reason()).isIn(SamplingPolicy.Reason.CONFIDENT, SamplingPolicy.Reason.EXPLORATION);
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
        assertThat(familiar).isBetween(850, 950);
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
        assertThat(shareSampled(p, SURE, 2000)).isBetween(0.08, 0.12);

        int exploredUntilDrift = feed(p, 0.0, Integer.MAX_VALUE);
        assertThat(p.drifting()).isTrue();
        assertThat(exploredUntilDrift).as("exploration records until drift is seen").isLessThanOrEqualTo(12);
        assertThat(shareSampled(p, SURE, 2000)).isEqualTo(1.0);

        feed(p, 1.0, 50);
        assertThat(p.drifting()).isFalse();
        assertThat(shareSampled(p, SURE, 2000)).isBetween(0.08, 0.12);
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
        SamplingPolicy.Settings d = SamplingPolicy.Settings.defaults();
        SamplingPolicy p = new SamplingPolicy(new SamplingPolicy.Settings(d.exploration(), d.minConfidence(), d.margin(), d.novelty(),
                d.driftDrop(), d.driftRate(), d.memory(), d.smoothing(), d.seed(), true));
        p.newStudent(0.9);
        float[] other = {0.01f, 0.95f, 0.03f, 0.01f};
        int changed = 0;
        for (int i = 0; i < 1000; i++) {
            changed += p.decide(SURE, other, true).reason() == SamplingPolicy.Reason.CHANGED ? 1 : 0;
        }
        assertThat(changed).as("all but the explored ones").isBetween(850, 950);
        assertThat(shareSampled(p, SURE, 2000)).as("same top-1 in both versions: only the random share").isBetween(0.08, 0.12);
    }

    @Test
    void badSettingsNameTheKeyAndValue() {
        assertThatThrownBy(() -> new SamplingPolicy.Settings(0, 0.6, 0.2, 0.35, 0.1, 1, 10, 0.1, 1))
                .hasMessageContaining("sampling.exploration").hasMessageContaining("'0.0'");
        assertThatThrownBy(() -> new SamplingPolicy.Settings(0.1, 0.6, 0.2, 0.35, 0.1, 1, 0, 0.1, 1))
                .hasMessageContaining("sampling.memory");
    }
}
