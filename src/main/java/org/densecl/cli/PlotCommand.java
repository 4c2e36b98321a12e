package org.densecl.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.densecl.report.LossCurve;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./densecl plot --log RUN/log.jsonl --out RUN/loss.png}: the loss curves of a training log as a PNG. */
@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "Draw the loss curves of a training log (JSONL) as a PNG.")
public final class PlotCommand implements Callable<Integer> {
    @Option(names = "--log", required = true, description = "the run's log.jsonl")
    Path log;
    @Option(names = "--out", description = "PNG to write (default: loss.png next to the log)")
    Path out;
    @Option(names = "--fields", split = ",", defaultValue = "loss,loss_global,loss_dense",
            description = "fields to draw (default: ${DEFAULT-VALUE})")
    List<String> fields;
    @Option(names = "--smooth", defaultValue = "20", description = "moving-average window in records (default: ${DEFAULT-VALUE})")
    int smooth;
    @Option(names = "--title", description = "chart title (default: the run folder's name)")
    String title;

    @Override
    public Integer call() {
        if (!java.nio.file.Files.isRegularFile(log)) {
            throw new IllegalArgumentException("plot: log file not found: " + log);
        }
        Path png = out != null ? out : log.toAbsolutePath().resolveSibling("loss.png");
        String name = title != null ? title : String.valueOf(log.toAbsolutePath().getParent().getFileName());
        LossCurve.write(log, png, name, fields, Math.max(1, smooth));
        System.out.println("plot: " + png);
        return 0;
    }
}
