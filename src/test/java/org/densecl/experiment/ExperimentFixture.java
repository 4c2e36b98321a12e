package org.densecl.experiment;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.densecl.cli.ExperimentCommand;
import picocli.CommandLine;

/**
 * A toy-sized experiment for the tests: the quick pretraining config at width 1/16 on 16 simulated 64x64 images
 * (4 steps of batch 4), the quick fine-tuning config on 40 simulated 64x64 labeled images with a shifted
 * acquisition (25 train, 5 val, 10 test with seed 7), 8 labeled images per trial, batch 4, 6 iterations with
 * validation every 3, one thread, 2 trials. The command is called directly, so a failure is the exception
 * the CLI would print as one line.
 */
public final class ExperimentFixture {
    static final int TRIALS = 2, ITERATIONS = 6, EVAL_EVERY = 3, TRAIN_LIMIT = 8;

    private ExperimentFixture() {}

    /** Writes the toy config into {@code dir}/tiny.yaml, its data folders under {@code dir}/data. */
    public static Path config(Path dir) throws IOException {
        Path data = dir.resolve("data");
        String yaml = """
                trials: %d
                pretrain:
                  config: configs/densecl_quick.yaml
                  overrides: ["data.root=%s", "data.simulateCount=16", "data.simulateSize=64", "data.batch=4",
                              "densecl.queueSize=16", "model.widthMultiplier=0.0625", "model.hidden=32", "model.dim=8",
                              "optim.epochs=1", "optim.warmupSteps=0", "run.logEvery=1", "run.checkpointEvery=2",
                              "run.threads=1"]
                finetune:
                  config: configs/finetune_quick.yaml
                  overrides: ["data.simulateCount=40", "data.simulateSize=64", "data.crop=64", "data.scale=[256, 64]",
                              "data.batch=4", "model.widthMultiplier=0.0625", "optim.iterations=%d", "eval.every=%d",
                              "run.logEvery=3", "run.checkpointEvery=2", "run.threads=1"]
                labeled:
                  root: %s
                  simulateSeed: 7
                  acquisitionShift: ["probe.frequencyMhz=[6, 9]", "scanner.refGray=[90, 120]"]
                  trainLimit: %d
                  sizes: []
                report:
                  overlayImages: 3
                  tsneBeforeFinetuning: true
                """.formatted(TRIALS, data.resolve("pool"), ITERATIONS, EVAL_EVERY, data.resolve("labeled"), TRAIN_LIMIT);
        Path file = dir.resolve("tiny.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    /** What one invocation did: whether it wrote the report, and its console lines. */
    public record Outcome(boolean reported, String console) {}

    /** Runs {@code ./densecl experiment --config config --output out extra...}, its console also on System.err. */
    public static Outcome run(Path config, Path out, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("--config", config.toString(), "--output", out.toString()));
        args.addAll(List.of(extra));
        CommandLine cl = new CommandLine(new ExperimentCommand());
        cl.parseArgs(args.toArray(String[]::new));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream err = System.err;
        PrintStream both = new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                buf.write(b);
                err.write(b);
            }
        }, true, StandardCharsets.UTF_8);
        boolean reported = ((ExperimentCommand) cl.getCommand()).experiment(both).run();
        both.flush();
        return new Outcome(reported, buf.toString(StandardCharsets.UTF_8));
    }
}
