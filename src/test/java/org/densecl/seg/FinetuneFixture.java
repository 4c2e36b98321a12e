package org.densecl.seg;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.densecl.cli.EvaluateCommand;
import org.densecl.cli.FinetuneCommand;
import picocli.CommandLine;

/**
 * Toy-sized fine-tuning runs for the command tests: configs/finetune_quick.yaml at width 1/16 on 24 simulated
 * 64x64 images (16 train, 5 val, 3 test with seed 1), batch 4, 12 iterations, validation every 6, one thread.
 * The commands are called directly, so a failure is the exception the CLI would print as one line.
 */
public final class FinetuneFixture {
    public static final int ITERATIONS = 12, EVAL_EVERY = 6;

    private FinetuneFixture() {}

    /** The quick config's overrides that make it toy-sized, with the data folder at {@code data}. */
    public static List<String> overrides(Path data) {
        return List.of("data.root=" + data, "data.simulateCount=24", "data.simulateSize=64", "data.crop=64",
                "data.scale=[256, 64]", "data.batch=4", "model.widthMultiplier=0.0625",
                "optim.iterations=" + ITERATIONS, "eval.every=" + EVAL_EVERY, "run.logEvery=4",
                "run.checkpointEvery=4", "run.threads=1");
    }

    /** Runs {@code ./densecl finetune} on the toy config; {@code extra} are more arguments (--set, --resume ...). */
    static void finetune(Path data, Path out, String init, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--config", "configs/finetune_quick.yaml", "--init", init,
                "--output", out.toString()));
        for (String o : overrides(data)) {
            args.add("--set");
            args.add(o);
        }
        args.addAll(List.of(extra));
        CommandLine cl = new CommandLine(new FinetuneCommand());
        cl.parseArgs(args.toArray(String[]::new));
        ((FinetuneCommand) cl.getCommand()).call();
    }

    /** {@code ./densecl evaluate}'s metrics for these arguments. */
    static org.densecl.seg.eval.SegMetrics evaluate(String... args) {
        CommandLine cl = new CommandLine(new EvaluateCommand());
        cl.parseArgs(args);
        return ((EvaluateCommand) cl.getCommand()).evaluate();
    }

    /** The toy config as a record (for the backbone's shape). */
    static FinetuneConfig config(Path data) {
        return FinetuneConfig.load(Path.of("configs/finetune_quick.yaml"), overrides(data));
    }
}
