package org.densecl.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.densecl.report.LossCurve;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl plot --log RUN/log.jsonl --output RUN/loss.png}: the loss curves of a training log as a PNG.
 * Repeat --log (and --label) to draw several runs on one chart, e.g. the engine against its PyTorch twin.
 */
@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "Draw the curves of one or more training logs (JSONL) as a PNG.")
public final class PlotCommand implements Callable<Integer> {
    @Option(names = "--log", required = true, description = "a run's log.jsonl; repeat to overlay runs")
    List<Path> logs;
    @Option(names = "--label", description = "legend name of each --log, in order (default: its folder's name)")
    List<String> labels = new java.util.ArrayList<>();
    @Option(names = {"--output", "--out"}, paramLabel = "PNG", description = "PNG to write (default: loss.png next to"
            + " the log; --out: the former name)")
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
        if (!labels.isEmpty() && labels.size() != logs.size()) {
            throw new IllegalArgumentException("plot: " + labels.size() + " --label for " + logs.size()
                    + " --log; give one label per log or none");
        }
        List<LossCurve.Run> runs = new java.util.ArrayList<>();
        for (int i = 0; i < logs.size(); i++) {
            Path log = logs.get(i);
            if (!java.nio.file.Files.isRegularFile(log)) {
                throw new IllegalArgumentException("plot: log file not found: " + log);
            }
            runs.add(new LossCurve.Run(labels.isEmpty() ? folder(log) : labels.get(i), log));
        }
        Path png = out != null ? out : logs.get(0).toAbsolutePath().resolveSibling("loss.png");
        String name = title != null ? title : runs.stream().map(LossCurve.Run::label).collect(
                java.util.stream.Collectors.joining(" vs "));
        LossCurve.write(runs, png, name, fields, Math.max(1, smooth));
        System.out.println("plot: " + png);
        return 0;
    }

    private static String folder(Path log) {
        return String.valueOf(log.toAbsolutePath().getParent().getFileName());
    }
}
