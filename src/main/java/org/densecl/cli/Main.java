package org.densecl.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The entry point behind {@code ./densecl}. Each subcommand is a small class in this package; a user
 * mistake (bad argument, missing file) ends as one line on stderr and a non-zero exit code.
 */
@Command(name = "densecl", mixinStandardHelpOptions = true, version = "DenseCL-J 0.1.0",
        description = {"DenseCL-J: DenseCL self-supervised pretraining of ResNet-50 and FCN R50-D8 fine-tuning on simulated"
                + " knee ultrasound, every forward and backward pass written by hand (scalar ref and Vector API cpu"
                + " backends; no GPU backend yet).",
                "The study: 'experiment' (DenseCL vs Kaiming init on scarce labels: trials, report, figures). Its steps:"
                + " 'simulate', 'pretrain', 'finetune', 'evaluate'. Also: 'embed' (pooled features), 'plot' (training"
                + " logs), 'info', 'demo', 'data-bench', 'bench'. Each command has --help."},
        subcommands = {InfoCommand.class, DemoCommand.class, PlotCommand.class, SimulateCommand.class, DataBenchCommand.class,
                BenchCommand.class, EmbedCommand.class, PretrainCommand.class, FinetuneCommand.class,
                EvaluateCommand.class, ExperimentCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(new Main(), args));
    }

    /**
     * Parses {@code args} for {@code command} (a picocli command object) and runs it: its exit code. A user
     * error (IllegalArgumentException and friends) prints one line, not a stack trace; so do a missing GPU or
     * CUDA library and a full device, whose messages say what to do. The commands' tests run them through here.
     */
    static int execute(Object command, String... args) {
        CommandLine cli = new CommandLine(command);
        cli.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                    || ex instanceof java.io.UncheckedIOException
                    || ex instanceof org.densecl.backend.cuda.CudaUnavailableException
                    || ex instanceof org.densecl.backend.cuda.OutOfDeviceMemory) {
                line.getErr().println("densecl: " + ex.getMessage());
                return 1;
            }
            throw ex;
        });
        return cli.execute(args);
    }
}
