package io.streamdistill.trainer;

/** When the next version is due: after {@code export.every.records} trained records or {@code export.every.seconds}. */
final class ExportCadence {
    private final long everyRecords;
    private final long everyMillis;
    private long trainedSince;
    private long lastMillis;

    ExportCadence(long everyRecords, long everySeconds, long nowMillis) {
        this.everyRecords = everyRecords;
        this.everyMillis = everySeconds * 1000;
        this.lastMillis = nowMillis;
    }

    static ExportCadence of(TrainerConfig config, long nowMillis) {
        return new ExportCadence(config.longValue("export.every.records"), config.longValue("export.every.seconds"), nowMillis);
    }

    void trained(int records) {
        trainedSince += records;
    }

    /** Whether anything new was trained since the last export. */
    boolean pending() {
        return trainedSince > 0;
    }

    boolean due(long nowMillis) {
        return trainedSince > 0 && (trainedSince >= everyRecords || nowMillis - lastMillis >= everyMillis);
    }

    /** The job (re)started: the time limit counts from now, the records trained before still count. */
    void started(long nowMillis) {
        lastMillis = nowMillis;
    }

    void exported(long nowMillis) {
        trainedSince = 0;
        lastMillis = nowMillis;
    }

    long trainedSince() {
        return trainedSince;
    }

    /** After a restore: the records trained before the snapshot that no version has yet. */
    void restore(long trainedSinceExport) {
        trainedSince = trainedSinceExport;
    }

    long everyMillis() {
        return everyMillis;
    }
}
