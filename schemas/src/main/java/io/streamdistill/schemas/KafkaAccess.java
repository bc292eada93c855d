package io.streamdistill.schemas;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;

/**
 * What a refusal by the broker means, in one line that names the setting or the principal and the
 * resource: a start-up check of the credentials ({@link #check}), and the wording of authorization
 * failures ({@link #refusal}).
 */
public final class KafkaAccess {
    private static final Pattern USERNAME = Pattern.compile("username\\s*=\\s*\"([^\"]*)\"");

    /**
     * Connects once with the client settings and fails fast, with one line, when the broker refuses them.
     *
     * @param config Kafka client settings (bootstrap.servers and the security settings without a prefix)
     * @param prefix how the caller's own settings name them ("kafka." for the components' key=value settings)
     * @throws IllegalArgumentException naming the setting at fault
     */
    public static void check(Map<String, Object> config, String prefix, Duration timeout) {
        Map<String, Object> c = new java.util.HashMap<>(config);
        c.put("request.timeout.ms", String.valueOf(Math.min(timeout.toMillis(), 15_000)));
        c.put("default.api.timeout.ms", String.valueOf(timeout.toMillis()));
        String where = "Kafka at " + config.get("bootstrap.servers");
        try (Admin admin = Admin.create(c)) {
            admin.describeCluster().nodes().get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SaslAuthenticationException) {
                throw new IllegalArgumentException(where + " refused the credentials in " + prefix + "sasl.jaas.config" + principalNote(config)
                        + ": " + cause.getMessage());
            }
            if (cause instanceof SslAuthenticationException) {
                throw new IllegalArgumentException(where + ": the TLS handshake failed; check " + prefix + "ssl.truststore.location and "
                        + prefix + "security.protocol: " + rootMessage(cause));
            }
            throw new IllegalArgumentException(where + " cannot be reached (" + rootMessage(cause) + "); check bootstrap.servers and "
                    + prefix + "security.protocol");
        } catch (TimeoutException e) {
            throw new IllegalArgumentException(where + " did not answer within " + timeout.toSeconds() + " s; check bootstrap.servers"
                    + " and " + prefix + "security.protocol (a plaintext client gets no answer from a TLS port)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while connecting to " + where, e);
        }
    }

    /**
     * Asks the broker what this client's principal may do on each topic and refuses, naming the
     * principal and the topic, when an operation it needs is not among them. A producer would only
     * find out at its first send, and then as a metadata timeout rather than a refusal.
     *
     * @param needs topic to the operations needed on it (READ, WRITE)
     * @throws TopicAuthorizationException worded by {@link #refusal}
     */
    public static void requireOperations(Map<String, Object> config, Map<String, java.util.Set<org.apache.kafka.common.acl.AclOperation>> needs,
                                         Duration timeout) {
        try (Admin admin = Admin.create(config)) {
            Map<String, org.apache.kafka.common.KafkaFuture<org.apache.kafka.clients.admin.TopicDescription>> topics = admin.describeTopics(
                    needs.keySet(), new org.apache.kafka.clients.admin.DescribeTopicsOptions().includeAuthorizedOperations(true))
                    .topicNameValues();
            for (Map.Entry<String, java.util.Set<org.apache.kafka.common.acl.AclOperation>> need : needs.entrySet()) {
                org.apache.kafka.clients.admin.TopicDescription d;
                try {
                    d = topics.get(need.getKey()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TopicAuthorizationException) {
                        // Not even DESCRIBE: name the topic (the broker's exception names none).
                        throw new TopicAuthorizationException("no access at all to " + need.getKey() + " for this principal",
                                java.util.Set.of(need.getKey()));
                    }
                    throw e;
                }
                java.util.Set<org.apache.kafka.common.acl.AclOperation> allowed = d.authorizedOperations();
                if (allowed == null) {
                    continue; // a broker without an authorizer: everything is allowed
                }
                for (org.apache.kafka.common.acl.AclOperation op : need.getValue()) {
                    if (!allowed.contains(op) && !allowed.contains(org.apache.kafka.common.acl.AclOperation.ALL)) {
                        throw new TopicAuthorizationException("no " + op + " on " + need.getKey() + " for this principal",
                                java.util.Set.of(need.getKey()));
                    }
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException) {
                return; // not created yet: nothing to ask about; the clients wait for it as before
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka at " + config.get("bootstrap.servers") + " did not describe " + needs.keySet()
                    + " within " + timeout.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The authorization failure in {@code e}'s causes, or null. */
    public static AuthorizationException authorizationCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AuthorizationException a) {
                return a;
            }
        }
        return null;
    }

    /** "the broker refused principal 'teacher' on topic(s) [distill.checkpoints] (TopicAuthorizationException)". */
    public static String refusal(AuthorizationException e, Map<String, ?> clientSettings) {
        String principal = principal(clientSettings);
        String resource;
        if (e instanceof TopicAuthorizationException t && !t.unauthorizedTopics().isEmpty()) {
            resource = "topic(s) " + new java.util.TreeSet<>(t.unauthorizedTopics());
        } else if (e instanceof GroupAuthorizationException g && g.groupId() != null) {
            resource = "group '" + g.groupId() + "'";
        } else if (e instanceof TransactionalIdAuthorizationException) {
            resource = "its transactional id";
        } else {
            resource = "the cluster";
        }
        return "the broker refused principal '" + (principal == null ? "ANONYMOUS" : principal) + "' on " + resource + " ("
                + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
    }

    /** The SCRAM/PLAIN user name in the settings' {@code sasl.jaas.config} (with or without a "kafka." prefix), or null. */
    public static String principal(Map<String, ?> settings) {
        Object jaas = settings.get("sasl.jaas.config");
        if (jaas == null) {
            jaas = settings.get("kafka.sasl.jaas.config");
        }
        if (jaas == null) {
            return null;
        }
        Matcher m = USERNAME.matcher(jaas.toString());
        return m.find() ? m.group(1) : null;
    }

    private static String principalNote(Map<String, ?> config) {
        String p = principal(config);
        return p == null ? "" : " (principal '" + p + "')";
    }

    private static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r.getClass().getSimpleName() + ": " + r.getMessage();
    }

    private KafkaAccess() {
    }
}
