package io.streamdistill.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code streamdistill report DIR/NAME [DIR/OTHER ...]}: a Markdown comparison with PNG learning curves. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Compare experiments made by `replay`: a Markdown table and one PNG learning curve per metric.")
public final class ReportCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "EXPERIMENT", description = "experiment directories (OUT/NAME)")
    List<Path> experiments;

    @Option(names = "--out", description = "where report.md and the PNGs go (default: a 'report' directory beside the first experiment)")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path target = out != null ? out : experiments.get(0).toAbsolutePath().getParent().resolve("report");
        Path report = ExperimentReport.write(experiments, target);
        System.out.println("wrote " + report.toAbsolutePath());
        return 0;
    }
}
