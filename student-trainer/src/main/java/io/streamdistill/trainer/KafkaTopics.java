package io.streamdistill.trainer;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates a topic the trainer or a tool writes to when the cluster lacks it (brokers here never auto-create). */
public final class KafkaTopics {

    /**
     * Creates {@code topic} with one partition and the broker's default replication when it does not exist; a topic
     * that exists (or that another client creates meanwhile) is left as it is.
     *
     * @param admin the admin client's settings (bootstrap servers and security)
     */
    public static void ensure(Map<String, Object> admin, String topic) throws ExecutionException, InterruptedException {
        try (Admin a = Admin.create(admin)) {
            if (a.listTopics().names().get().contains(topic)) {
                return;
            }
            try {
                a.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty()))).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
    }

    private KafkaTopics() {
    }
}
