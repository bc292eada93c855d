package io.streamdistill.trainer.finetune;

import io.streamdistill.records.SoftTarget;
import io.streamdistill.schemas.RandomShare;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.SerdeException;
import io.streamdistill.student.tokenize.TextTokenizer;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.HoldoutSlice;
import io.streamdistill.schemas.TopicSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Soft targets read back from the stream for fine-tuning: the records the live trainer holds out
 * (the same hash of the id, the same percentage), to score agreement on; and the rest, to keep
 * distilling on. Only class logits of the student's width are taken.
 */
public record StreamSample(List<Example> replay, List<Example> holdout, long read, long skipped) {

    /**
     * @param holdoutPercent the parent's holdout.percent
     * @param max            read at most this many records
     */
    public static StreamSample read(Map<String, String> base, SchemaRegistryClient registry, String topic, TextTokenizer tokenizer,
                                    int classes, int holdoutPercent, int max) {
        AvroDeserializer<SoftTarget> d = new AvroDeserializer<>(registry, SoftTarget.class);
        List<Example> replay = new ArrayList<>();
        List<Example> holdout = new ArrayList<>();
        long[] skipped = {0};
        List<Boolean> seen = TopicSnapshot.read(base, topic, r -> {
            SoftTarget st;
            try {
                st = d.deserialize(r.topic(), r.value());
            } catch (SerdeException e) {
                skipped[0]++;
                return Boolean.FALSE;
            }
            if (st == null || st.getClassLogits() == null || st.getClassLogits().size() != classes) {
                skipped[0]++;
                return Boolean.FALSE;
            }
            float[] teacher = new float[classes];
            for (int i = 0; i < classes; i++) {
                teacher[i] = st.getClassLogits().get(i);
            }
            Example e = new Example(tokenizer.encode(st.getText()), teacher, -1);
            if (RandomShare.contains(st) && HoldoutSlice.contains(st.getId(), holdoutPercent)) {
                holdout.add(e);
            } else {
                replay.add(e);
            }
            return Boolean.TRUE;
        }, max, Duration.ofMinutes(5));
        return new StreamSample(List.copyOf(replay), List.copyOf(holdout), seen.size(), skipped[0]);
    }
}
