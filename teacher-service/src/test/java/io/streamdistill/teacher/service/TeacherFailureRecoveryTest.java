package io.streamdistill.teacher.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.Teacher;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Teacher failures on the embedded broker, the real registry and the real ONNX teacher, whose
 * inference call is wrapped to fail the way a GPU or a native library can.
 */
class TeacherFailureRecoveryTest {
    private static final String POISON = "a text that crashes the teacher";
    private static Teacher teacher;
    private static SchemaRegistryClient registry;

    @BeforeAll
    static void start() {
        SharedLocalStack.get();
        teacher = Teacher.load(BuiltInTeachers.ALL_MINILM_L6_V2.descriptor(), 1, Teacher.Device.CPU, 0);
        registry = new SchemaRegistryClient(RegistryConfig.builder(SharedLocalStack.get().registryUrl()).build());
    }

    @AfterAll
    static void stop() {
        teacher.close();
    }

    private record Running(TeacherService service, Thread thread, String in, String out, String dead) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            service.close();
            thread.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    private static Running startService(String name, Map<String, String> extra, Predicate<int[][]> fails) {
        String in = SharedLocalStack.newTopic(name + "-text", 1);
        String out = SharedLocalStack.newTopic(name + "-soft", 1);
        String dead = SharedLocalStack.newTopic(name + "-dead", 1);
        Map<String, String> settings = new HashMap<>(Map.of(
                "bootstrap.servers", SharedLocalStack.get().bootstrapServers(),
                "schema.registry.url", SharedLocalStack.get().registryUrl(),
                "input.topic", in, "output.topic", out, "dead.letter.topic", dead,
                "group.id", name + "-group", "transactional.id", name + "-tx", "http.port", "-1"));
        settings.putAll(extra);
        UnaryOperator<BatchInference.Infer> failing = infer -> ids -> {
            if (fails.test(ids)) {
                throw new IllegalStateException("ONNX Runtime failed on a batch of " + ids.length + " texts: CUDA out of memory (injected)");
            }
            return infer.run(ids);
        };
        TeacherService service = new TeacherService(TeacherConfig.of(settings), teacher, new Metrics(), failing);
        Thread thread = new Thread(service, name + "-loop");
        thread.start();
        return new Running(service, thread, in, out, dead);
    }

    /** True for a batch holding the poison text's tokens. */
    private static boolean holdsPoison(int[][] ids) {
        int[] poison = teacher.tokenizer().encode(POISON);
        return Arrays.stream(ids).anyMatch(row -> Arrays.equals(row, poison));
    }

    private static void produce(String topic, List<String> ids, List<String> texts) throws Exception {
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers",
                SharedLocalStack.get().bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < ids.size(); i++) {
                p.send(new ProducerRecord<>(topic, utf8(ids.get(i)), utf8(texts.get(i))));
            }
            p.flush();
        }
    }

    private static List<SoftTarget> softTargets(String topic, int expected) {
        return io.streamdistill.teacher.TopicReader.softTargets(registry, topic, expected, Duration.ofSeconds(60), Duration.ofMillis(500));
    }

    private static List<DeadLetter> deadLetters(String topic, int expected) {
        return io.streamdistill.teacher.TopicReader.deadLetters(registry, topic, expected, Duration.ofSeconds(60), Duration.ofMillis(500));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The first inference call fails (out of memory, once) and every batch holding the poison text
     * fails: all good records get their own soft target, only the poison record is dead-lettered.
     */
    @Test
    void aTransientFailureCostsNothingAndOnlyThePoisonRecordIsDeadLettered() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (Running r = startService("teacher-fails-once", Map.of(), ids -> calls.getAndIncrement() == 0 || holdsPoison(ids))) {
            List<String> ids = new ArrayList<>();
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                ids.add("good-" + i);
                texts.add("sentence number " + i + " about " + "things ".repeat(i % 5));
            }
            ids.add(10, "poison");
            texts.add(10, POISON);
            produce(r.in(), ids, texts);

            List<SoftTarget> out = softTargets(r.out(), 24);
            assertThat(out).extracting(SoftTarget::getId).containsExactlyInAnyOrderElementsOf(ids.stream()
                    .filter(id -> !id.equals("poison")).toList());
            // Each output is its own record's, whatever sub-batch it came from.
            float[][] expected = teacher.embedTexts(texts);
            for (SoftTarget st : out) {
                float[] e = expected[ids.indexOf(st.getId())];
                for (int j = 0; j < e.length; j++) {
                    assertThat(st.getEmbedding().get(j)).as(st.getId()).isCloseTo(e[j], org.assertj.core.data.Offset.offset(1e-4f));
                }
            }
            List<DeadLetter> dead = deadLetters(r.dead(), 1);
            assertThat(dead).extracting(DeadLetter::getId).containsExactly("poison");
            assertThat(dead.get(0).getReason()).isEqualTo("TEACHER_ERROR");
            assertThat(dead.get(0).getMessage()).contains("CUDA out of memory");
            assertThat(r.service().metrics().inferenceRetries(Metrics.RETRY_SPLIT)).isPositive();
            assertThat(r.service().metrics().inferenceRetries(Metrics.RETRY_RECORD)).isPositive();
        }
    }

    /**
     * A teacher that fails on everything (the GPU gone) dead-letters nothing: the poll is aborted and
     * retried with backoff, /ready says why, and when the teacher works again every record comes out once.
     */
    @Test
    void aBrokenTeacherAbortsAndRetriesThePollUntilItWorksAgain() throws Exception {
        AtomicBoolean broken = new AtomicBoolean(true);
        try (Running r = startService("teacher-broken", Map.of("teacher.failure.retries", "100"), ids -> broken.get())) {
            List<String> ids = List.of("b-0", "b-1", "b-2", "b-3", "b-4");
            produce(r.in(), ids, List.of("one text", "two texts", "three texts", "four texts", "five texts"));
            Metrics metrics = r.service().metrics();
            await(() -> metrics.inferenceRetries(Metrics.RETRY_TRANSACTION) >= 2, "two aborted polls");
            assertThat(r.service().isReady()).isFalse();
            assertThat(r.service().notReadyReason()).startsWith("teacher: ").contains("CUDA out of memory");
            assertThat(metrics.aborts()).isGreaterThanOrEqualTo(2);

            broken.set(false);

            assertThat(softTargets(r.out(), ids.size())).extracting(SoftTarget::getId).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(deadLetters(r.dead(), 0)).isEmpty();
            await(r.service()::isReady, "ready again after a commit");
        }
    }

    /** A record that crashes the teacher, alone in its poll, is dead-lettered after the attempt limit; its partition flows on. */
    @Test
    void aPoisonRecordAloneIsDeadLetteredAfterTheAttemptLimitAndThePartitionFlowsOn() throws Exception {
        try (Running r = startService("teacher-poison-alone", Map.of("teacher.failure.retries", "2"),
                TeacherFailureRecoveryTest::holdsPoison)) {
            produce(r.in(), List.of("poison"), List.of(POISON));
            List<DeadLetter> dead = deadLetters(r.dead(), 1);
            assertThat(dead).extracting(DeadLetter::getId).containsExactly("poison");
            assertThat(dead.get(0).getReason()).isEqualTo("TEACHER_ERROR");
            assertThat(dead.get(0).getMessage()).contains("alone in 3 attempts").contains("CUDA out of memory");
            assertThat(r.service().metrics().inferenceRetries(Metrics.RETRY_TRANSACTION)).isEqualTo(2);

            produce(r.in(), List.of("after"), List.of("a good text after it"));
            assertThat(softTargets(r.out(), 1)).extracting(SoftTarget::getId).containsExactly("after");
        }
    }
}
