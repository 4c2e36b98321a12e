package org.densecl.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.densecl.experiment.MachineInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code ./densecl bench}: our benchmark tools as subcommands ({@code gemm-summary}, {@code step},
 * {@code conv-layers}, {@code ratios}, {@code fresh-jvms}, {@code pretrain-sweep}, each with its own --help), and anything else passed to JMH, which runs the
 * benchmarks compiled from bench/ ({@code ./densecl bench GemmBench -p shape=1024}).
 */
@Command(name = "bench", sortOptions = false,
        description = {"Benchmarks: gemm-summary, step, conv-layers, ratios, fresh-jvms, pretrain-sweep, or JMH arguments for the benchmarks of bench/.",
                "'./densecl bench GemmBench -p shape=1024' runs that benchmark at that parameter; no arguments run all"
                        + " of them; './densecl bench -h' is JMH's own help, '-l' its list."},
        subcommands = {GemmSummaryCommand.class, StepBenchmark.class, ConvLayersBenchmark.class, RatiosCommand.class,
                PretrainSweepCommand.class, FreshJvmBenchmark.class})
public final class BenchCommand implements Callable<Integer> {
    // Only --help is ours: -h and every other option (-p, -f, -wi ...) belong to JMH.
    @Option(names = "--help", usageHelp = true, description = "Show this help (subcommands: SUBCOMMAND --help).")
    boolean help;

    // @Unmatched, not @Parameters: JMH's options must pass through untouched and in order instead of being
    // rejected as unknown options of this command.
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        // JMH's own header names the JVM, not the CPU: every speed figure names its CPU and ISA.
        if (args.stream().noneMatch(a -> a.equals("-h") || a.startsWith("-l"))) {
            System.out.println("  machine: " + MachineInfo.cpuLine());
        }
        org.openjdk.jmh.Main.main(args.toArray(String[]::new));
        return 0;
    }
}
