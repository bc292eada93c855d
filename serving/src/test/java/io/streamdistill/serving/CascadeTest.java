package io.streamdistill.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.student.onnx.StudentRunner;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cascade serving: the calibration's arithmetic, and serve answering through a cascade with a real ONNX model as its teacher. */
class CascadeTest {
    @TempDir
    Path dir;

    @Test
    void theThresholdSendsTheLeastConfidentShareOrTheFewestForAnAgreement() {
        // Ten texts, confidence rising; the student agrees with the teacher on all but the two least confident and the fifth.
        float[] confidence = {0.30f, 0.35f, 0.40f, 0.45f, 0.50f, 0.60f, 0.70f, 0.80f, 0.90f, 0.95f};
        boolean[] agrees = {false, false, true, true, false, true, true, true, true, true};
        Cascade.Calibration calls = Cascade.Calibration.fit(1, confidence, agrees, Cascade.Target.parse("teacher-calls=0.2"));
        assertThat(calls.threshold()).isEqualTo(0.40f, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(calls.teacherShare()).isEqualTo(0.2);
        assertThat(calls.agreement()).isEqualTo(0.9); // 2 by the teacher + 7 of the 8 the student keeps
        assertThat(calls.studentAgreement()).isEqualTo(0.7);

        Cascade.Calibration agreement = Cascade.Calibration.fit(1, confidence, agrees, Cascade.Target.parse("agreement=0.95"));
        assertThat(agreement.teacherShare()).as("the fifth must go too: the five least confident").isEqualTo(0.5);
        assertThat(agreement.agreement()).isEqualTo(1.0);
        assertThat(Cascade.Calibration.fit(1, confidence, agrees, Cascade.Target.parse("agreement=0.7")).teacherShare()).isZero();
        assertThat(Cascade.Calibration.fit(1, confidence, agrees, Cascade.Target.parse("teacher-calls=1")).teacherShare()).isEqualTo(1.0);

        assertThatThrownBy(() -> Cascade.Target.parse("calls=0.2")).hasMessageContaining("--cascade must be teacher-calls=SHARE or"
                + " agreement=SHARE").hasMessageContaining("'calls=0.2'");
        assertThatThrownBy(() -> Cascade.Target.parse("agreement=1.5")).hasMessageContaining("in [0, 1], got 1.5");
    }

    /**
     * serve with a cascade whose teacher is another ONNX model: asked about its own held-out texts, it sends exactly the
     * calibrated share to the teacher, each such answer is the teacher's, the others the student's, and /v1/model and
     * /metrics say so.
     */
    @Test
    void serveAnswersTheUnsureTextsFromTheTeacher() throws Exception {
        String topic = SharedLocalStack.newTopic("serve-cascade", 1);
        StudentVersions versions = new StudentVersions(dir, ServingTest.tokenizer());
        StudentCheckpoint student = versions.bag("c", 1, 71);
        StudentCheckpoint teacherFile = versions.bag("teacher", 1, 72);
        ServingTest.publishStatic(topic, student);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            texts.add("held-out text " + i + (i % 3 == 0 ? " about a small furry animal" : i % 3 == 1 ? " about hot soup" : " about trees"));
        }
        try (StudentRunner teacherModel = StudentRunner.load(Path.of(URI.create(teacherFile.getArtifact().getUri())),
                teacherFile.getArtifact().getSha256(), ServingTest.tokenizer(), 1)) {
            Cascade.Teacher teacher = new Cascade.Teacher() {
                @Override
                public String id() {
                    return "teacher-onnx";
                }

                @Override
                public synchronized float[][] probabilities(List<String> t) {
                    return teacherModel.score(t);
                }
            };
            float[][] teacherOut = teacherModel.score(texts);
            List<Cascade.HoldoutText> holdout = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                holdout.add(new Cascade.HoldoutText(texts.get(i), Cascade.argmax(teacherOut[i])));
            }
            Cascade cascade = new Cascade(teacher, Cascade.Target.parse("teacher-calls=0.3"), holdout);
            Map<String, String> clients = Map.of("bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                    "schema.registry.url", SharedLocalStack.get().registryUrl());
            try (Serving s = new Serving(new CheckpointFollower.Settings(clients, topic, "c", null), "all-MiniLM-L6-v2", "127.0.0.1", 0, 2,
                    StudentServer.Limits.DEFAULTS, cascade)) {
                ServingTest.awaitVersion(s, 1);
                float[][] studentOut = s.holder().peek().score(texts);
                ObjectMapper json = new ObjectMapper();
                HttpClient http = HttpClient.newHttpClient();
                JsonNode body = json.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/predict"))
                        .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(Map.of("texts", texts)))).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
                int byTeacher = 0;
                int agreed = 0;
                for (int i = 0; i < texts.size(); i++) {
                    JsonNode p = body.get("predictions").get(i);
                    boolean teacherAnswered = p.get("answered_by").asText().equals("teacher");
                    float[] expected = teacherAnswered ? teacherOut[i] : studentOut[i];
                    assertThat(p.get("confidence").floatValue()).as("text %d answered by %s", i, p.get("answered_by").asText())
                            .isEqualTo(expected[Cascade.argmax(expected)]);
                    byTeacher += teacherAnswered ? 1 : 0;
                    agreed += Cascade.argmax(expected) == holdout.get(i).teacherLabel() ? 1 : 0;
                }
                JsonNode model = json.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/model"))
                        .build(), HttpResponse.BodyHandlers.ofString()).body()).get("cascade");
                assertThat(byTeacher).as("the calibrated share of its own held-out texts").isEqualTo(
                        (int) Math.round(model.get("estimated_teacher_share").asDouble() * texts.size())).isBetween(25, 30);
                assertThat(agreed / (double) texts.size()).isEqualTo(model.get("estimated_agreement").asDouble());
                assertThat(model.get("teacher").asText()).isEqualTo("teacher-onnx");
                assertThat(model.get("teacher_texts").asLong()).isEqualTo(byTeacher);
                assertThat(model.get("estimated_agreement").asDouble()).isGreaterThan(model.get("student_alone_agreement").asDouble());
                String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).contains("streamdistill_serving_cascade_texts_total{answered_by=\"teacher\"} " + byTeacher)
                        .contains("streamdistill_serving_cascade_estimated_agreement");
            }
        }
    }
}
