package io.streamdistill.monitor;

import io.streamdistill.artifacts.ArtifactReader;
import io.streamdistill.artifacts.ArtifactUnavailableException;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.RandomShare;
import io.streamdistill.student.loss.DistillationLoss;
import io.streamdistill.student.onnx.ArtifactIntegrityException;
import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.StudentTokenizers;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.HoldoutSlice;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shadow evaluation: every holdout soft target (the trainer never trains on them: same id hash,
 * same share) is scored by the newest published version of each student whose output fits it.
 * Artifacts are loaded from the checkpoint record's URI ({@code file:}, {@code http(s):}, {@code s3:}) and refused when
 * their sha256 differs; while their store is down the version is tried again every few seconds, not refused.
 * Emits one {@link ShadowStats} per scored record, keyed {@code student/version}; a version is
 * announced (with 0 records) as soon as it is seen, so the dashboard lists it before traffic scores it.
 */
final class ShadowProcessor implements Processor<String, SoftTarget, String, ShadowStats> {
    private static final Logger LOG = LoggerFactory.getLogger(ShadowProcessor.class);

    private final String checkpointsStore;
    private final int holdoutPercent;
    private final String tokenizerName;
    private final int maxTokens;
    private ProcessorContext<String, ShadowStats> context;
    private TimestampedKeyValueStore<String, StudentCheckpoint> checkpoints;
    private TextTokenizer tokenizer;
    /** Per student: the loaded version's runner (older versions are closed when a newer one loads). */
    private final Map<String, Loaded> runners = new HashMap<>();
    private final Set<String> announced = new HashSet<>();
    private final ArtifactReader artifacts;
    /** While the artifact store is down: when to try it again (System.nanoTime), or 0. */
    private long storeRetryAt;
    private static final Duration STORE_RETRY = Duration.ofSeconds(5);

    private record Loaded(long version, StudentRunner runner, String refused) {
    }

    ShadowProcessor(String checkpointsStore, int holdoutPercent, String tokenizerName, int maxTokens, Map<String, String> clientSettings) {
        this.artifacts = ArtifactReader.fromSettings(clientSettings);
        this.checkpointsStore = checkpointsStore;
        this.holdoutPercent = holdoutPercent;
        this.tokenizerName = tokenizerName;
        this.maxTokens = maxTokens;
    }

    @Override
    public void init(ProcessorContext<String, ShadowStats> context) {
        this.context = context;
        this.checkpoints = context.getStateStore(checkpointsStore);
        context.schedule(Duration.ofSeconds(2), PunctuationType.WALL_CLOCK_TIME, this::announceNewVersions);
    }

    @Override
    public void process(Record<String, SoftTarget> record) {
        SoftTarget st = record.value();
        if (st == null || !HoldoutSlice.contains(st.getId(), holdoutPercent) || !RandomShare.contains(st)) {
            return;
        }
        for (StudentCheckpoint cp : latest()) {
            Loaded loaded = runner(cp);
            if (loaded.runner == null || !fits(cp, st)) {
                continue;
            }
            float[] out = loaded.runner.score(List.of(st.getText()))[0];
            ShadowStats s = header(cp);
            s.records = 1;
            if (st.getClassLogits() != null) {
                float[] teacher = toArray(st.getClassLogits());
                float[] studentLogits = new float[out.length];
                for (int i = 0; i < out.length; i++) {
                    studentLogits[i] = (float) Math.log(Math.max(out[i], 1e-12f)); // probabilities -> logits
                }
                s.agreementSum = DistillationLoss.argmax(out) == DistillationLoss.argmax(teacher) ? 1 : 0;
                s.klSum = DistillationLoss.klDivergence(studentLogits, teacher, 1f);
            } else {
                s.agreementSum = DistillationLoss.cosine(out, toArray(st.getEmbedding()));
            }
            context.forward(new Record<>(key(cp), s, record.timestamp()));
        }
    }

    private void announceNewVersions(long now) {
        for (StudentCheckpoint cp : latest()) {
            if (announced.add(key(cp))) {
                Loaded loaded = runner(cp); // warm up before traffic arrives
                ShadowStats s = header(cp);
                s.refused = loaded.refused;
                context.forward(new Record<>(key(cp), s, now));
            }
        }
    }

    private List<StudentCheckpoint> latest() {
        List<StudentCheckpoint> out = new java.util.ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<StudentCheckpoint>> it = checkpoints.all()) {
            while (it.hasNext()) {
                KeyValue<String, ValueAndTimestamp<StudentCheckpoint>> kv = it.next();
                if (kv.value != null && kv.value.value() != null) {
                    out.add(kv.value.value());
                }
            }
        }
        return out;
    }

    private Loaded runner(StudentCheckpoint cp) {
        Loaded current = runners.get(cp.getStudent());
        if (current != null && current.version == cp.getVersion()) {
            return current;
        }
        if (storeRetryAt != 0 && System.nanoTime() < storeRetryAt) {
            return new Loaded(cp.getVersion(), null, null); // not refused: not scored yet
        }
        Loaded next;
        URI uri = URI.create(cp.getArtifact().getUri());
        try {
            byte[] bytes = artifacts.read(uri);
            if (storeRetryAt != 0) {
                LOG.info("the artifact store answers again");
                storeRetryAt = 0;
            }
            if (tokenizer == null) {
                tokenizer = StudentTokenizers.load(tokenizerName, maxTokens);
            }
            StudentRunner r = StudentRunner.verified(bytes, cp.getArtifact().getSha256(), uri.toString(), tokenizer, 1);
            next = new Loaded(cp.getVersion(), r, null);
            LOG.info("shadow-scoring student '{}' version {} ({})", cp.getStudent(), cp.getVersion(), uri);
        } catch (ArtifactUnavailableException e) {
            // Not the version's fault: not cached, tried again once the pause is over.
            if (storeRetryAt == 0) {
                LOG.warn("student '{}' version {}: its artifact store is unavailable; trying again every {} s: {}", cp.getStudent(),
                        cp.getVersion(), STORE_RETRY.toSeconds(), e.getMessage());
            }
            storeRetryAt = System.nanoTime() + STORE_RETRY.toNanos();
            return new Loaded(cp.getVersion(), null, null); // not refused: not scored yet
        } catch (ArtifactIntegrityException e) {
            LOG.error("student '{}' version {} refused: {}", cp.getStudent(), cp.getVersion(), e.getMessage());
            next = new Loaded(cp.getVersion(), null, "sha256 mismatch: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            LOG.warn("student '{}' version {} cannot be scored: {}", cp.getStudent(), cp.getVersion(), e.getMessage());
            next = new Loaded(cp.getVersion(), null, e.getMessage());
        }
        if (current != null && current.runner != null) {
            current.runner.close();
        }
        runners.put(cp.getStudent(), next);
        return next;
    }

    private static boolean fits(StudentCheckpoint cp, SoftTarget st) {
        if (st.getClassLogits() != null) {
            return cp.getClassNames() != null && cp.getClassNames().size() == st.getClassLogits().size();
        }
        return st.getEmbedding() != null && cp.getTask().name().equals("EMBEDDING");
    }

    private static ShadowStats header(StudentCheckpoint cp) {
        ShadowStats s = new ShadowStats();
        s.student = cp.getStudent();
        s.version = cp.getVersion();
        s.task = cp.getTask().name();
        s.createdAt = cp.getCreatedAt().toString();
        s.recordsSeen = cp.getRecordsSeen();
        s.checkpointMetrics = new java.util.LinkedHashMap<>(cp.getMetrics());
        return s;
    }

    static String key(StudentCheckpoint cp) {
        return cp.getStudent() + "/" + cp.getVersion();
    }

    private static float[] toArray(List<Float> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    @Override
    public void close() {
        runners.values().forEach(l -> {
            if (l.runner != null) {
                l.runner.close();
            }
        });
        runners.clear();
        artifacts.close();
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
