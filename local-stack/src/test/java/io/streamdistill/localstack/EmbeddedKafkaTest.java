package io.streamdistill.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaTest {

    @Test
    void startsCreatesTopicsWithLeadersAndSurvivesARestartWithItsData() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().build().start()) {
            String bootstrap = kafka.bootstrapServers();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                TopicSetup.ensureTopics(admin, List.of(new NewTopic("t", Optional.of(3), Optional.empty())), Duration.ofSeconds(30));
                // Creating again is fine: existing topics are left alone.
                TopicSetup.ensureTopics(admin, List.of(new NewTopic("t", Optional.of(3), Optional.empty())), Duration.ofSeconds(30));
                assertThat(admin.describeTopics(List.of("t")).allTopicNames().get().get("t").partitions()).hasSize(3);
            }
            produce(bootstrap, "t", "before-restart");

            assertThat(kafka.stop()).isTrue();
            assertThat(kafka.stop()).as("stopping a stopped broker is a no-op").isFalse();
            kafka.start();

            assertThat(kafka.bootstrapServers()).as("same address after restart").isEqualTo(bootstrap);
            produce(bootstrap, "t", "after-restart");
            assertThat(consumeAll(bootstrap, "t", 2)).containsExactlyInAnyOrder("before-restart", "after-restart");
        }
    }

    @Test
    void startingTwiceIsAClearError() {
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().build().start()) {
            assertThatThrownBy(kafka::start)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already running at " + kafka.bootstrapServers());
        }
    }

    @Test
    void aPortInUseIsAClearError() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             EmbeddedKafka kafka = EmbeddedKafka.builder().brokerPort(taken.getLocalPort()).build()) {
            assertThatThrownBy(kafka::start)
                    .isInstanceOf(LocalStackException.class)
                    .hasMessageContaining("port " + taken.getLocalPort())
                    .hasMessageContaining("already in use");
            assertThat(kafka.isRunning()).isFalse();
        }
    }

    static void produce(String bootstrap, String topic, String value) throws Exception {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()))) {
            p.send(new ProducerRecord<>(topic, value)).get();
        }
    }

    static List<String> consumeAll(String bootstrap, String topic, int expected) {
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "g-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()))) {
            c.subscribe(List.of(topic));
            List<String> out = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    out.add(r.value());
                }
            }
            return out;
        }
    }
}
