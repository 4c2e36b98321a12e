package org.densecl.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code ./densecl bench [JMH arguments]} runs the JMH benchmarks compiled from bench/;
 * {@code ./densecl bench gemm-summary} prints GEMM GFLOP/s per size and provider with the ratio to
 * OpenBLAS measured in the same run; {@code ./densecl bench step [options]} times a full ResNet training
 * step ({@link StepBenchmark}); {@code ./densecl bench pretrain-sweep} runs a pretraining recipe over seeds
 * and vector widths ({@link PretrainSweepCommand}).
 */
@Command(name = "bench", mixinStandardHelpOptions = false,
        description = {"Run JMH benchmarks (arguments go to JMH, e.g. 'GemmBench -p size=1024'),",
                "or 'gemm-summary' for GFLOP/s and the ratio to OpenBLAS per size and provider,",
                "or 'step [options]' to time a full ResNet training step ('step -h' lists them),",
                "or 'pretrain-sweep [options]' to check a pretraining recipe over seeds and vector widths.",
                "'./densecl bench -h' shows JMH's own help."})
public final class BenchCommand implements Callable<Integer> {
    // @Unmatched, not @Parameters: JMH's and gemm-summary's own options (-p, -f, --quick ...) must pass
    // through untouched and in order, instead of being rejected as unknown options of this command.
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (!args.isEmpty() && args.get(0).equals("gemm-summary")) {
            return org.densecl.bench.GemmSummary.run(args.subList(1, args.size()).toArray(String[]::new));
        }
        if (!args.isEmpty() && args.get(0).equals("step")) {
            return StepBenchmark.run(args.subList(1, args.size()).toArray(String[]::new));
        }
        if (!args.isEmpty() && args.get(0).equals("pretrain-sweep")) {
            return new picocli.CommandLine(new PretrainSweepCommand()).execute(args.subList(1, args.size()).toArray(String[]::new));
        }
        org.openjdk.jmh.Main.main(args.toArray(String[]::new));
        return 0;
    }
}
