package io.streamdistill.localstack;

import io.streamdistill.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Each component's principal may touch only what it needs (READ and WRITE imply DESCRIBE):
 * <ul>
 *   <li>teacher: read distill.text and distill.checkpoints (adaptive sampling follows the students);
 *       write soft targets and dead letters; groups and transactional ids starting
 *       {@code streamdistill-teacher} or {@code streamdistill-demo-teacher};</li>
 *   <li>trainer: read soft targets, write checkpoints and dead letters; create, write and read its sync topic; groups and transactional ids starting
 *       {@code streamdistill-trainer}, {@code streamdistill-demo-trainer} or {@code streamdistill-replay};</li>
 *   <li>monitor: read soft targets, checkpoints and dead letters, write distill.metrics; its Kafka Streams internal
 *       topics, group and transactional ids ({@code streamdistill-monitor}, {@code streamdistill-demo-monitor});</li>
 *   <li>serve: read checkpoints;</li>
 *   <li>producer: write distill.text.</li>
 * </ul>
 */
public final class BrokerAcls {

    static List<AclBinding> bindings() {
        List<AclBinding> b = new ArrayList<>();
        String teacher = BrokerSecurity.TEACHER;
        topic(b, teacher, AclOperation.READ, Topics.TEXT, Topics.CHECKPOINTS);
        topic(b, teacher, AclOperation.WRITE, Topics.SOFT_TARGETS, Topics.DEAD_LETTERS);
        ids(b, teacher, "streamdistill-teacher", "streamdistill-demo-teacher", "streamdistill-reteach");

        String trainer = BrokerSecurity.TRAINER;
        topic(b, trainer, AclOperation.READ, Topics.SOFT_TARGETS);
        // Dead letters: soft targets it cannot read, written with its checkpoints (exactly once).
        topic(b, trainer, AclOperation.WRITE, Topics.CHECKPOINTS, Topics.DEAD_LETTERS);
        // train.parallelism > 1: the trainer creates its sync topic, writes merged rounds and reads them back.
        topic(b, trainer, AclOperation.CREATE, Topics.CHECKPOINT_SYNC);
        topic(b, trainer, AclOperation.WRITE, Topics.CHECKPOINT_SYNC);
        topic(b, trainer, AclOperation.READ, Topics.CHECKPOINT_SYNC);
        ids(b, trainer, "streamdistill-trainer", "streamdistill-demo-trainer", "streamdistill-replay");

        String monitor = BrokerSecurity.MONITOR;
        topic(b, monitor, AclOperation.READ, Topics.SOFT_TARGETS, Topics.CHECKPOINTS, Topics.DEAD_LETTERS);
        topic(b, monitor, AclOperation.WRITE, Topics.METRICS);
        for (String prefix : List.of("streamdistill-monitor", "streamdistill-demo-monitor")) {
            // Kafka Streams' internal topics (repartition, changelog) are named after its application id.
            b.add(allow(monitor, new ResourcePattern(ResourceType.TOPIC, prefix, PatternType.PREFIXED), AclOperation.ALL));
            ids(b, monitor, prefix);
        }

        topic(b, BrokerSecurity.SERVE, AclOperation.READ, Topics.CHECKPOINTS);
        b.add(allow(BrokerSecurity.SERVE, new ResourcePattern(ResourceType.GROUP, "streamdistill-serve", PatternType.PREFIXED),
                AclOperation.READ));
        topic(b, BrokerSecurity.PRODUCER, AclOperation.WRITE, Topics.TEXT);
        return b;
    }

    /** Creates the ACLs (creating an existing one is a no-op). */
    static void apply(Admin admin, Duration timeout) {
        try {
            admin.createAcls(bindings()).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new LocalStackException("cannot create the secure stack's ACLs: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalStackException("interrupted while creating ACLs", e);
        }
    }

    private static void topic(List<AclBinding> b, String principal, AclOperation op, String... topics) {
        for (String t : topics) {
            b.add(allow(principal, new ResourcePattern(ResourceType.TOPIC, t, PatternType.LITERAL), op));
        }
    }

    /** Groups (READ) and transactional ids (WRITE) starting with each prefix. */
    private static void ids(List<AclBinding> b, String principal, String... prefixes) {
        for (String prefix : prefixes) {
            b.add(allow(principal, new ResourcePattern(ResourceType.GROUP, prefix, PatternType.PREFIXED), AclOperation.READ));
            b.add(allow(principal, new ResourcePattern(ResourceType.TRANSACTIONAL_ID, prefix, PatternType.PREFIXED), AclOperation.WRITE));
        }
    }

    private static AclBinding allow(String principal, ResourcePattern resource, AclOperation op) {
        return new AclBinding(resource, new AccessControlEntry("User:" + principal, "*", op, AclPermissionType.ALLOW));
    }

    private BrokerAcls() {
    }
}
