package io.streamdistill.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code streamdistill} command. */
@Command(name = "streamdistill", mixinStandardHelpOptions = true, version = "streamdistill 0.1.0",
        description = "Streaming online distillation: an ONNX teacher on Kafka, a Flink-trained student.",
        subcommands = {DemoCommand.class, ProduceCommand.class, InspectCommand.class, EvalCommand.class,
                TeacherCommand.class, TrainCommand.class, ReplayCommand.class, ReportCommand.class, ReteachCommand.class, ServeCommand.class, ClassifyStreamCommand.class, DistillStaticCommand.class,
                DistillGeneralCommand.class,
                FitHeadCommand.class, FinetuneCommand.class, LocalStackCommand.class, TrainLmCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) throws InterruptedException {
        // Native start-up code (ONNX Runtime, DJL) overflowed the JVM's default 1 MiB main-thread stack
        // and killed the process with a bare SIGSEGV on some class paths: commands run on a thread with
        // a 64 MiB stack instead.
        int[] exit = {1};
        Thread command = new Thread(null, () -> exit[0] = run(args), "streamdistill", 64L << 20);
        command.start();
        command.join();
        System.exit(exit[0]);
    }

    /** Runs a command line and returns its exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        // A bad flag or value: one line saying what is wrong, then exit code 2.
        cli.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("streamdistill: " + ex.getMessage() + " (see --help)");
            return 2;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof IllegalArgumentException) {
                commandLine.getErr().println("streamdistill: " + ex.getMessage());
                return 2;
            }
            if (ex instanceof io.streamdistill.student.onnx.ArtifactIntegrityException) {
                commandLine.getErr().println("streamdistill: " + ex.getMessage());
                return 3;
            }
            throw ex;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
