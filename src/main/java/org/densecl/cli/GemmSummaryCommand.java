package org.densecl.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.densecl.benchmark.GemmSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./densecl bench gemm-summary}: the quick GEMM table of {@link GemmSummary}. */
@Command(name = "gemm-summary", mixinStandardHelpOptions = true,
        description = {"GEMM GFLOP/s per square size and provider, with the ratio to OpenBLAS measured in the same run.",
                "Providers: vector (pure Java), and openblas where the library loads. Then convolution forward against"
                        + " the GEMM of the same shape for two ResNet-50 3x3 layers.",
                "About a minute and a half; --quick about a quarter of that."})
public final class GemmSummaryCommand implements Callable<Integer> {
    @Option(names = "--sizes", split = ",", paramLabel = "N", defaultValue = "512,1024,2048",
            description = "square GEMM sizes (default ${DEFAULT-VALUE})")
    List<Integer> sizes;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "2", description = "threads (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--quick", description = "shorter warm-up and measurement")
    boolean quick;

    @Override
    public Integer call() {
        return GemmSummary.run(sizes.stream().mapToInt(Integer::intValue).toArray(), threads, quick);
    }
}
