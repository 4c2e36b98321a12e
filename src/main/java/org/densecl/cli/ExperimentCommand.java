package org.densecl.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.densecl.experiment.Experiment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl experiment}: the study end to end, DenseCL-pretrained vs Kaiming-initialised FCN fine-tuning
 * on scarce labels, with trials, a report and figures ({@link Experiment}).
 */
@Command(name = "experiment", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Does DenseCL pretraining on unlabeled ultrasound help segmentation when labels are scarce?",
                "Pretrains once (DIR/pretrain), then fine-tunes both arms, DenseCL backbone and Kaiming init, for each"
                        + " trial t with run.seed = t (same labeled subset for both arms) into DIR/densecl/trialT and"
                        + " DIR/kaiming/trialT, on a labeled set simulated with a shifted acquisition.",
                "Writes DIR/report.md (table: test mIoU and mDice per trial and arm, mean, std, gap and whether it"
                        + " exceeds the spread; learning speed; settings; machine; wall time), results.json, curves.png,"
                        + " overlays.png, tsne.png, and with several sizes efficiency.png.",
                "Run it again with the same --output to continue after an interruption: finished runs are kept,"
                        + " an interrupted one resumes from its checkpoint. A collapsed pretraining stops the experiment"
                        + " unless --allow-collapsed.",
                "configs/experiment_quick.yaml takes about 15 minutes on 2 cores; configs/experiment_paper.yaml"
                        + " needs a GPU (run.backend: cuda)."})
public final class ExperimentCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", defaultValue = "configs/experiment_quick.yaml",
            description = "experiment config (default ${DEFAULT-VALUE})")
    Path config;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "runs/experiment",
            description = "output folder (default ${DEFAULT-VALUE})")
    Path output;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override an experiment config key, e.g."
            + " --set trials=5 or --set labeled.trainLimit=16")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--sizes", split = ",", paramLabel = "N", description = "data-efficiency mode: run both arms at"
            + " each labeled-set size (e.g. 16,32,64) and add efficiency.png and a table; default: the config's"
            + " labeled.sizes, or just labeled.trainLimit")
    List<Integer> sizes;

    @Option(names = "--allow-collapsed", description = "fine-tune and report even when the pretraining's global head"
            + " collapsed (the report then warns that the DenseCL arm measures a failed pretraining)")
    boolean allowCollapsed;

    // Continuing is what an experiment always does; the option lets one script line pass --resume to every command.
    @Option(names = "--resume", description = "continue what --output holds (what the experiment does anyway; accepted"
            + " so a script can pass --resume to pretrain, finetune and experiment alike)")
    boolean resume;

    @Option(names = "--stop-at", paramLabel = "N", description = "stop the first phase that trains in this invocation"
            + " after its step / iteration N, as if killed there; run again without it to continue")
    Long stopAt;

    @Override
    public Integer call() throws IOException {
        experiment(System.err).run();
        return 0;
    }

    /** The experiment these arguments ask for, reporting to {@code console}. */
    public Experiment experiment(PrintStream console) {
        return new Experiment(new Experiment.Options(config, overrides, output, sizes, allowCollapsed, stopAt), console);
    }
}
