package io.streamdistill.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --on-bad-line skip|fail} for a command that only reads a text file (sends nothing to Kafka). */
final class ReadBadLines {
    @Option(names = "--on-bad-line", defaultValue = "skip", description = "a line of the file that is not a usable text: skip "
            + "(counted and named on stderr) or fail (default: ${DEFAULT-VALUE})")
    String onBadLine;

    /** The file's texts; what was left out is said on standard error. */
    Corpus load(Path file, String flag) {
        return Corpus.loadForReading(file, onBadLine, flag);
    }
}
