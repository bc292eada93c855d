package io.streamdistill.it;

import io.streamdistill.records.Artifact;
import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.SourceRange;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.records.Task;
import io.streamdistill.records.TeacherRef;
import io.streamdistill.records.TextEvent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/** One filled-in record of each type (and each SoftTarget task), with every optional field set. */
final class SampleRecords {
    static final Instant T = Instant.parse("2026-11-28T10:15:30.123Z");
    static final TeacherRef TEACHER = TeacherRef.newBuilder()
            .setModelId("all-MiniLM-L6-v2").setSha256("ab".repeat(32)).setTokenizer("bert-base-uncased@" + "cd".repeat(32)).build();

    static TextEvent textEvent() {
        return TextEvent.newBuilder().setId("t-1").setText("Ünïcode, emoji 🚀 and RTL שלום").setLabel("noun.food")
                .setSource("wordnet").setEventTime(T).setAttributes(Map.of("lang", "en")).build();
    }

    private static SoftTarget.Builder softTarget(Task task) {
        return SoftTarget.newBuilder().setId("t-1").setText("a pear is a fruit").setLabel(null).setEventTime(T)
                .setTeacher(TEACHER).setTask(task).setInputTokens(7).setTruncated(false).setTeacherLatencyMicros(8300)
                .setProducedAt(T.plusMillis(20)).setInputTopic("distill.text").setInputPartition(0).setInputOffset(42L);
    }

    static SoftTarget classification() {
        return softTarget(Task.CLASSIFICATION).setClassLogits(List.of(2.5f, -1.0f, 0.25f, Float.MIN_VALUE)).build();
    }

    static SoftTarget embedding() {
        float[] v = new float[384];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(i);
        }
        java.util.List<Float> list = new java.util.ArrayList<>();
        for (float f : v) {
            list.add(f);
        }
        return softTarget(Task.EMBEDDING).setEmbedding(list).build();
    }

    static SoftTarget languageModel() {
        return softTarget(Task.LANGUAGE_MODEL).setLanguageModel(io.streamdistill.records.TopKLogits.newBuilder()
                .setK(2).setInputTokenIds(List.of(101, 7592)).setTopTokenIds(List.of(7592, 2088, 102, 1012))
                .setTopLogits(List.of(9.5f, 7.25f, 11f, 3f)).setLogSumExp(List.of(10.1f, 11.02f)).build()).build();
    }

    static StudentCheckpoint checkpoint() {
        return StudentCheckpoint.newBuilder().setStudent("news").setVersion(7).setCreatedAt(T).setStep(1200)
                .setRecordsSeen(38_400).setTask(Task.CLASSIFICATION).setArchitecture("embedding-bag(30522x64)+softmax(4)")
                .setParameters(1_953_668).setClassNames(List.of("a", "b", "c", "d"))
                .setSources(List.of(SourceRange.newBuilder().setTopic("distill.soft-targets").setPartition(0)
                        .setFirstOffset(0).setLastOffset(38_399).build()))
                .setMetrics(Map.of("holdout_agreement", 0.91, "holdout_kl", 0.12))
                .setArtifact(Artifact.newBuilder().setUri("file:///tmp/news/7/model.onnx").setSha256("ef".repeat(32))
                        .setBytes(7_814_000).setFormat("onnx").build())
                .setTeacher(TEACHER).setConfigHash("01".repeat(32)).build();
    }

    static DeadLetter deadLetter() {
        return DeadLetter.newBuilder().setId(null).setTopic("distill.text").setPartition(0).setOffset(17)
                .setOriginalKey(ByteBuffer.wrap("k".getBytes(StandardCharsets.UTF_8)))
                .setOriginalValue(ByteBuffer.wrap(new byte[] {(byte) 0xC3, 0x28}))
                .setStage("deserialize").setReason("INVALID_UTF8").setMessage("byte 0 starts an invalid UTF-8 sequence")
                .setService("teacher-service").setFailedAt(T).build();
    }

    static List<SpecificRecord> all() {
        return List.of(textEvent(), classification(), embedding(), languageModel(), checkpoint(), deadLetter());
    }

    private SampleRecords() {
    }
}
