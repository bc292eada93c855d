package io.streamdistill.cli;

import io.streamdistill.teacher.TeacherServiceMain;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/** {@code streamdistill teacher [--config FILE] [--key=value ...]}: the teacher service against external Kafka and registry. */
@Command(name = "teacher", description = "Run the teacher service against an external Kafka and registry: "
        + "[--config FILE] [--key=value ...], settings as in docs/teacher-service.md.")
public final class TeacherCommand implements Callable<Integer> {
    @Unmatched
    List<String> args = new ArrayList<>();

    @Parameters(hidden = true)
    List<String> positional = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        List<String> all = new ArrayList<>(positional);
        all.addAll(args);
        TeacherServiceMain.main(all.toArray(String[]::new));
        return 0;
    }
}
