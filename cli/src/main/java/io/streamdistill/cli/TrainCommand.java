package io.streamdistill.cli;

import io.streamdistill.trainer.StudentTrainerJob;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code streamdistill train --key=value ...}: the trainer job on a local MiniCluster against
 * external Kafka and registry (settings as in docs/student-trainer.md; {@code --checkpoint.dir=URI}).
 */
@Command(name = "train", description = "Run the student trainer (local Flink) against an external Kafka and registry: "
        + "--key=value settings as in docs/student-trainer.md.")
public final class TrainCommand implements Callable<Integer> {
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        StudentTrainerJob.main(args.toArray(String[]::new));
        return 0;
    }
}
