package io.streamdistill.monitor;

import io.streamdistill.records.DeadLetter;
import io.streamdistill.records.SoftTarget;
import io.streamdistill.records.StudentCheckpoint;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import io.streamdistill.schemas.serde.AvroDeserializer;
import io.streamdistill.schemas.serde.AvroSerializer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The monitor's Kafka Streams topology, built apart from {@code main} so tests drive it:
 * <ul>
 *   <li>soft targets, re-keyed to one partition, aggregated per tumbling window into
 *       {@link TrafficStats} (store {@value #TRAFFIC}); the first {@code reference.records} form the
 *       drift reference (store {@value #REFERENCE});</li>
 *   <li>dead letters counted per window and reason (store {@value #DEAD_LETTERS});</li>
 *   <li>published checkpoints as a global table (store {@value #CHECKPOINTS}), and the holdout slice
 *       of soft targets scored by each newest version (store {@value #SHADOW}, keyed student/version).</li>
 * </ul>
 * Closed windows and shadow updates also go to {@code metrics.topic} as JSON.
 */
public final class MonitorTopology {
    public static final String TRAFFIC = "traffic";
    public static final String REFERENCE = "reference";
    public static final String DEAD_LETTERS = "dead-letters";
    public static final String CHECKPOINTS = "checkpoints";
    public static final String SHADOW = "shadow";
    static final String REFERENCE_KEY = "reference";

    public static Topology build(MonitorConfig config) {
        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.fromMap(config.registryConfig()));
        Serde<SoftTarget> softTargets = avro(registry, SoftTarget.class);
        Serde<DeadLetter> deadLetters = avro(registry, DeadLetter.class);
        Serde<StudentCheckpoint> checkpoints = avro(registry, StudentCheckpoint.class);
        Serde<TrafficStats> traffic = new JsonSerde<>(TrafficStats.class);
        Serde<ShadowStats> shadow = new JsonSerde<>(ShadowStats.class);
        @SuppressWarnings({"unchecked", "rawtypes"})
        Serde<Map<String, Object>> json = (Serde) new JsonSerde<>(Map.class);
        String metricsTopic = config.string("metrics.topic");
        // Soft targets from several teacher instances and partitions arrive a little out of order.
        TimeWindows windows = TimeWindows.ofSizeAndGrace(config.window(), config.grace());

        StreamsBuilder b = new StreamsBuilder();
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(REFERENCE), Serdes.String(), traffic));

        // One partition: windows and the reference cover all traffic, whatever the topic's partitioning.
        KStream<String, SoftTarget> all = b.stream(config.string("soft.targets.topic"), Consumed.with(Serdes.String(), softTargets))
                .filter((k, v) -> v != null)
                .selectKey((k, v) -> "all")
                .repartition(Repartitioned.with(Serdes.String(), softTargets).withName("soft-targets-all").withNumberOfPartitions(1));

        all.groupByKey()
                .windowedBy(windows)
                .aggregate(TrafficStats::new, (k, v, agg) -> agg.add(v),
                        Materialized.<String, TrafficStats, WindowStore<Bytes, byte[]>>as(TRAFFIC)
                                .withKeySerde(Serdes.String()).withValueSerde(traffic).withRetention(config.retention()))
                .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
                .toStream()
                .map((w, s) -> KeyValue.pair("traffic", trafficRecord(w, s)))
                .to(metricsTopic, Produced.with(Serdes.String(), json));

        int referenceRecords = config.integer("reference.records");
        all.process(() -> new ReferenceProcessor(referenceRecords), REFERENCE);

        b.stream(config.string("dead.letters.topic"), Consumed.with(Serdes.String(), deadLetters))
                .filter((k, v) -> v != null)
                .groupBy((k, v) -> v.getReason(), Grouped.with("dead-letters-by-reason", Serdes.String(), deadLetters))
                .windowedBy(windows)
                .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as(DEAD_LETTERS)
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()).withRetention(config.retention()))
                .toStream()
                .map((w, n) -> KeyValue.pair("dead-letters", deadLetterRecord(w, n)))
                .to(metricsTopic, Produced.with(Serdes.String(), json));

        b.globalTable(config.string("checkpoints.topic"), Consumed.with(Serdes.String(), checkpoints),
                Materialized.<String, StudentCheckpoint, KeyValueStore<Bytes, byte[]>>as(CHECKPOINTS)
                        .withKeySerde(Serdes.String()).withValueSerde(checkpoints));

        String tokenizer = config.string("student.tokenizer");
        int maxTokens = config.integer("student.max.tokens");
        int holdout = config.integer("holdout.percent");
        all.process(() -> new ShadowProcessor(CHECKPOINTS, holdout, tokenizer, maxTokens, config.clientSettings()))
                .groupByKey(Grouped.with("shadow-by-version", Serdes.String(), shadow))
                .aggregate(ShadowStats::new, (k, v, agg) -> agg.merge(v),
                        Materialized.<String, ShadowStats, KeyValueStore<Bytes, byte[]>>as(SHADOW)
                                .withKeySerde(Serdes.String()).withValueSerde(shadow))
                .toStream()
                .map((k, s) -> KeyValue.pair("shadow", shadowRecord(s)))
                .to(metricsTopic, Produced.with(Serdes.String(), json));
        return b.build();
    }

    /** Keeps the first {@code n} soft targets' statistics as the drift reference, then freezes them. */
    static final class ReferenceProcessor implements Processor<String, SoftTarget, Void, Void> {
        private final int n;
        private KeyValueStore<String, TrafficStats> store;

        ReferenceProcessor(int n) {
            this.n = n;
        }

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            store = context.getStateStore(REFERENCE);
        }

        @Override
        public void process(Record<String, SoftTarget> record) {
            TrafficStats ref = store.get(REFERENCE_KEY);
            if (ref == null) {
                ref = new TrafficStats();
            }
            if (ref.records < n) {
                store.put(REFERENCE_KEY, ref.add(record.value()));
            }
        }
    }

    private static Map<String, Object> trafficRecord(Windowed<String> w, TrafficStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("window_start", w.window().startTime().toString());
        m.put("window_end", w.window().endTime().toString());
        m.put("records", s.records);
        m.put("records_per_second", s.records / ((w.window().end() - w.window().start()) / 1000.0));
        m.put("teacher_latency_p50_seconds", s.latencyQuantileSeconds(0.5));
        m.put("teacher_latency_p99_seconds", s.latencyQuantileSeconds(0.99));
        m.put("truncated", s.truncated);
        m.put("class_shares", s.classShares());
        return m;
    }

    private static Map<String, Object> deadLetterRecord(Windowed<String> w, Long n) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("window_start", w.window().startTime().toString());
        m.put("reason", w.key());
        m.put("count", n);
        return m;
    }

    private static Map<String, Object> shadowRecord(ShadowStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("student", s.student);
        m.put("version", s.version);
        m.put("records", s.records);
        m.put("agreement", Double.isNaN(s.agreement()) ? null : s.agreement());
        m.put("kl", Double.isNaN(s.kl()) ? null : s.kl());
        m.put("refused", s.refused);
        return m;
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> Serde<T> avro(SchemaRegistryClient registry, Class<T> type) {
        return Serdes.serdeFrom(new AvroSerializer<>(registry), new AvroDeserializer<>(registry, type));
    }

    private MonitorTopology() {
    }
}
