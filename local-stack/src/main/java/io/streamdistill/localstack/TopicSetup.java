package io.streamdistill.localstack;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates topics and returns only once every partition has a leader that answers. */
public final class TopicSetup {
    private static final Logger LOG = LoggerFactory.getLogger(TopicSetup.class);

    /**
     * Creates the topics that do not exist yet (existing ones are left as they are), then waits
     * until {@code listOffsets} succeeds on every partition: right after creation the first
     * produce can otherwise fail with NOT_LEADER_OR_FOLLOWER (KAFKA-14359 / KAFKA-15591).
     */
    public static void ensureTopics(Admin admin, Collection<NewTopic> topics, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> names = new ArrayList<>();
        for (NewTopic t : topics) {
            names.add(t.name());
        }
        try {
            var results = admin.createTopics(topics).values();
            for (var e : results.entrySet()) {
                try {
                    e.getValue().get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) {
                        throw new LocalStackException("cannot create topic '" + e.getKey() + "': " + ex.getCause().getMessage(),
                                ex.getCause());
                    }
                }
            }
            awaitLeaders(admin, names, deadline, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalStackException("interrupted while creating topics " + names, e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new LocalStackException("topics " + names + " were not created within " + timeout.toSeconds() + " s", e);
        }
    }

    private static void awaitLeaders(Admin admin, List<String> names, long deadline, Duration timeout)
            throws InterruptedException {
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames()
                        .get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
                Map<TopicPartition, OffsetSpec> request = new HashMap<>();
                described.values().forEach(d -> d.partitions().forEach(
                        p -> request.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest())));
                admin.listOffsets(request).all().get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
                LOG.debug("topics {} ready ({} partitions)", names, request.size());
                return;
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                last = e;
                Thread.sleep(100);
            }
        }
        throw new LocalStackException("topics " + names + " have partitions without a leader after " + timeout.toSeconds()
                + " s" + (last == null ? "" : ": " + last.getMessage()), last);
    }

    private static long remainingMillis(long deadline) {
        return Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
    }

    private TopicSetup() {
    }
}
