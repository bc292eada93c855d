package io.streamdistill.trainer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * One merged sync round, as the merger announces it on the sync topic: which round (the checkpoint
 * that closed it), where its merged {@code ModelDelta} file is, and the lineage and record count of
 * everything merged so far. It becomes visible when that checkpoint commits (read_committed).
 */
public class SyncPointer {
    private static final int FORMAT = 1;

    public long round;
    /** The job run whose merger wrote it (a fresh id each time the job graph is built; see {@link ReplicaOperator}). */
    public String run;
    public String student;
    public String file;
    public String sha256;
    /** Records merged up to and including this round, over all training subtasks. */
    public long records;
    /** Sync traffic so far: every move sent to the merger plus every merged round read back by each subtask. */
    public long syncBytes;
    /** {@link Lineage} of everything merged so far, as {@link Lineage#write} writes it. */
    public byte[] lineage;

    public SyncPointer() {
    }

    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(FORMAT);
            out.writeLong(round);
            out.writeUTF(run);
            out.writeUTF(student);
            out.writeUTF(file);
            out.writeUTF(sha256);
            out.writeLong(records);
            out.writeLong(syncBytes);
            out.writeInt(lineage.length);
            out.write(lineage);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static SyncPointer decode(byte[] value) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(value))) {
            int format = in.readInt();
            if (format != FORMAT) {
                throw new IOException("sync record format " + format + " is not supported (this build reads " + FORMAT + ")");
            }
            SyncPointer p = new SyncPointer();
            p.round = in.readLong();
            p.run = in.readUTF();
            p.student = in.readUTF();
            p.file = in.readUTF();
            p.sha256 = in.readUTF();
            p.records = in.readLong();
            p.syncBytes = in.readLong();
            p.lineage = new byte[in.readInt()];
            in.readFully(p.lineage);
            return p;
        }
    }

    Lineage lineage() throws IOException {
        return Lineage.fromBytes(lineage);
    }

    static final class Serializer implements KafkaRecordSerializationSchema<SyncPointer> {
        private static final long serialVersionUID = 1L;
        private final String topic;

        Serializer(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(SyncPointer p, KafkaSinkContext context, Long timestamp) {
            return new ProducerRecord<>(topic, p.student.getBytes(java.nio.charset.StandardCharsets.UTF_8), p.encode());
        }
    }

    /** Reads the sync topic; records of other students sharing it are skipped, a record it cannot read fails the job. */
    static final class Deserializer implements KafkaRecordDeserializationSchema<SyncPointer> {
        private static final long serialVersionUID = 1L;
        private final String student;

        Deserializer(String student) {
            this.student = student;
        }

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<SyncPointer> out) throws IOException {
            SyncPointer p = decode(record.value());
            if (student.equals(p.student)) {
                out.collect(p);
            }
        }

        @Override
        public TypeInformation<SyncPointer> getProducedType() {
            return TypeInformation.of(SyncPointer.class);
        }
    }
}
