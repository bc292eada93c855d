package io.streamdistill.trainer;

/** A Kafka record ready for the sink: key and value bytes (the value already in the registry wire format). */
public class OutRecord {
    public byte[] key;
    public byte[] value;

    public OutRecord() {
    }

    public OutRecord(byte[] key, byte[] value) {
        this.key = key;
        this.value = value;
    }
}
