package io.streamdistill.schemas.serde;

import java.nio.ByteBuffer;

/**
 * The schema registry wire format, byte-compatible with Confluent's: magic byte 0, the schema id
 * as a 4-byte big-endian int, then the Avro binary body.
 */
public final class WireFormat {
    public static final byte MAGIC_BYTE = 0;
    public static final int HEADER_SIZE = 5;

    /** Writes the 5-byte header into the start of {@code out}. */
    public static void writeHeader(byte[] out, int schemaId) {
        out[0] = MAGIC_BYTE;
        out[1] = (byte) (schemaId >>> 24);
        out[2] = (byte) (schemaId >>> 16);
        out[3] = (byte) (schemaId >>> 8);
        out[4] = (byte) schemaId;
    }

    /**
     * Checks the header of a record and returns the schema id it names.
     *
     * @param where topic (and, when known, partition/offset) for the error message
     */
    public static int schemaId(byte[] data, String where) {
        if (data.length == 0) {
            throw new TruncatedPayloadException("empty record on " + where
                    + ": expected at least the 5-byte header (magic byte 0, 4-byte schema id)");
        }
        if (data[0] != MAGIC_BYTE) {
            throw new UnknownMagicByteException(String.format("record on %s starts with byte 0x%02x%s, not the magic byte"
                    + " 0x00 of the schema registry wire format: it was not written by a schema-registry Avro serializer"
                    + " (plain text or JSON?). Check the producer's value.serializer.",
                    where, data[0] & 0xff, printable(data[0])));
        }
        if (data.length < HEADER_SIZE) {
            throw new TruncatedPayloadException("record on " + where + " is " + data.length
                    + " bytes long, shorter than the 5-byte header (magic byte, 4-byte schema id): it was cut short");
        }
        return ByteBuffer.wrap(data, 1, 4).getInt();
    }

    private static String printable(byte b) {
        return b >= 0x20 && b < 0x7f ? " ('" + (char) b + "')" : "";
    }

    private WireFormat() {
    }
}
