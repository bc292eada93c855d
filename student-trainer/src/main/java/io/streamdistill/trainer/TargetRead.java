package io.streamdistill.trainer;

/**
 * What the soft-target source read at one offset: a {@link #target} to train on, or, when the bytes
 * cannot be one, everything a dead letter needs (a Flink POJO). A registry outage never becomes a
 * TargetRead: {@link SoftTargetSchema} fails the task instead, so the record is read again.
 */
public class TargetRead {
    /** The soft target; null when the record is unreadable. */
    public TargetRecord target;
    public String topic;
    public int partition;
    public long offset;
    /** The record id when the record could be decoded that far, else null. */
    public String id;
    public byte[] key;
    public byte[] value;
    /** Where reading failed ('deserialize' or 'validate') and a stable reason code with a message. */
    public String stage;
    public String reason;
    public String message;

    public TargetRead() {
    }

    static TargetRead of(TargetRecord target) {
        TargetRead r = new TargetRead();
        r.target = target;
        r.topic = target.topic;
        r.partition = target.partition;
        r.offset = target.offset;
        r.id = target.id;
        return r;
    }

    static TargetRead unreadable(org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> record, String id,
                                 String stage, String reason, String message) {
        TargetRead r = new TargetRead();
        r.topic = record.topic();
        r.partition = record.partition();
        r.offset = record.offset();
        r.id = id;
        r.key = record.key();
        r.value = record.value();
        r.stage = stage;
        r.reason = reason;
        r.message = message;
        return r;
    }

    boolean readable() {
        return target != null;
    }

    /** topic/partition@offset, as logs and dead letters name a record. */
    String where() {
        return topic + "/" + partition + "@" + offset;
    }
}
