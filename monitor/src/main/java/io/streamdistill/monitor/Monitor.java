package io.streamdistill.monitor;

import io.streamdistill.student.onnx.StudentRunner;
import io.streamdistill.student.tokenize.StudentTokenizers;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.QueryableStoreType;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The running monitor: the Kafka Streams application, its HTTP server, and consumer-lag lookups. */
public final class Monitor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Monitor.class);

    private final MonitorConfig config;
    private final KafkaStreams streams;
    private final MonitorQueries queries;
    private final Admin admin;
    private final MonitorServer server;
    private volatile List<Map<String, Object>> lag = List.of();
    private volatile long lagAt;

    private Monitor(MonitorConfig config) {
        this.config = config;
        this.streams = new KafkaStreams(MonitorTopology.build(config), streamsProperties(config));
        this.queries = new MonitorQueries(new MonitorQueries.Stores() {
            @Override
            public ReadOnlyWindowStore<String, TrafficStats> traffic() {
                return store(MonitorTopology.TRAFFIC, QueryableStoreTypes.windowStore());
            }

            @Override
            public ReadOnlyWindowStore<String, Long> deadLetters() {
                return store(MonitorTopology.DEAD_LETTERS, QueryableStoreTypes.windowStore());
            }

            @Override
            public ReadOnlyKeyValueStore<String, TrafficStats> reference() {
                return store(MonitorTopology.REFERENCE, QueryableStoreTypes.keyValueStore());
            }

            @Override
            public ReadOnlyKeyValueStore<String, ShadowStats> shadow() {
                return store(MonitorTopology.SHADOW, QueryableStoreTypes.keyValueStore());
            }

            @Override
            public ReadOnlyKeyValueStore<String, ?> checkpoints() {
                return store(MonitorTopology.CHECKPOINTS, QueryableStoreTypes.keyValueStore());
            }
        }, config.window());
        this.admin = Admin.create(config.kafkaConfig());
        this.server = config.integer("http.port") < 0 ? null : new MonitorServer(config.string("http.bind"), config.integer("http.port"), this);
    }

    /** The Kafka Streams settings of the monitor's application. */
    static Properties streamsProperties(MonitorConfig config) {
        Properties p = new Properties();
        p.putAll(config.kafkaConfig());
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.string("application.id"));
        p.put(StreamsConfig.STATE_DIR_CONFIG, config.string("state.dir"));
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.integer("commit.interval.ms"));
        // An unreadable record is counted and passed over (the monitor watches, it must not stop); a registry outage
        // fails the thread, which is replaced and reads the record again.
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, UnreadableRecords.class);
        p.putIfAbsent(StreamsConfig.REPLICATION_FACTOR_CONFIG, -1);
        return p;
    }

    /** Starts the streams application and the HTTP server (when {@code http.port} is not -1). */
    public static Monitor start(MonitorConfig config) {
        // Native libraries start here, on the caller's (big) stack, not first on a stream thread's
        // default stack, where their start-up code overflowed it (SIGSEGV) with some class paths.
        StudentRunner.initNative();
        StudentTokenizers.load(config.string("student.tokenizer"), config.integer("student.max.tokens")).close();
        Monitor m = new Monitor(config);
        m.streams.setUncaughtExceptionHandler(e -> {
            org.apache.kafka.common.errors.AuthorizationException denied = io.streamdistill.schemas.KafkaAccess.authorizationCause(e);
            if (denied != null) {
                // A new thread would be refused the same way, every few seconds: stop, saying who was refused what.
                LOG.error("the monitor stops: {}", io.streamdistill.schemas.KafkaAccess.refusal(denied, config.kafkaConfig()));
                return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            }
            if (UnreadableRecords.isOutage(e)) {
                LOG.warn("a monitor stream thread stopped for a schema registry outage; replacing it");
                return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
            }
            LOG.error("a monitor stream thread failed; replacing it: {}", e.toString(), e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        m.streams.start();
        if (m.server != null) {
            LOG.info("monitor dashboard at {}", m.url());
        }
        return m;
    }

    private <T> T store(String name, QueryableStoreType<T> type) {
        return streams.store(StoreQueryParameters.fromNameAndType(name, type));
    }

    public MonitorQueries queries() {
        return queries;
    }

    public boolean isReady() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    public String state() {
        return streams.state().name();
    }

    public int httpPort() {
        return server == null ? -1 : server.port();
    }

    public String url() {
        return server == null ? null : "http://127.0.0.1:" + server.port() + "/";
    }

    MonitorConfig config() {
        return config;
    }

    /** Consumer lag of the configured groups (the teacher's, the trainer's), per topic; cached for 5 s. */
    public List<Map<String, Object>> lag() {
        if (System.currentTimeMillis() - lagAt < 5000) {
            return lag;
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (String group : config.lagGroups()) {
            try {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(5, TimeUnit.SECONDS);
                if (committed.isEmpty()) {
                    continue;
                }
                Map<TopicPartition, OffsetSpec> request = new HashMap<>();
                committed.keySet().forEach(tp -> request.put(tp, OffsetSpec.latest()));
                var ends = admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                        .get(5, TimeUnit.SECONDS);
                Map<String, Long> byTopic = new LinkedHashMap<>();
                committed.forEach((tp, o) -> {
                    if (o != null && ends.containsKey(tp)) {
                        byTopic.merge(tp.topic(), Math.max(0, ends.get(tp).offset() - o.offset()), Long::sum);
                    }
                });
                byTopic.forEach((topic, l) -> out.add(Map.of("group", group, "topic", topic, "lag", l)));
            } catch (Exception e) {
                LOG.debug("lag of group {} unavailable: {}", group, e.toString());
            }
        }
        lag = out;
        lagAt = System.currentTimeMillis();
        return out;
    }

    /** Everything the dashboard shows at once. */
    public Map<String, Object> summary() {
        Map<String, Object> s = new LinkedHashMap<>(queries.summary(Instant.now()));
        List<Map<String, Object>> l = lag();
        s.put("lag", l);
        s.put("lag_total", l.stream().mapToLong(m -> (Long) m.get("lag")).sum());
        s.put("state", state());
        s.put("unreadable_records", UnreadableRecords.count(config.string("application.id")));
        String last = UnreadableRecords.last(config.string("application.id"));
        if (last != null) {
            s.put("last_unreadable", last);
        }
        return s;
    }

    private boolean closed;

    /** Stops the HTTP server and the streams application; a second call does nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (server != null) {
            server.close();
        }
        streams.close(Duration.ofSeconds(30));
        admin.close(Duration.ofSeconds(5));
    }
}
