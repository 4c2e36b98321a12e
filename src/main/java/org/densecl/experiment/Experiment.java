package org.densecl.experiment;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.densecl.backend.Backends;
import org.densecl.backend.cpu.simd.WidthChoice;
import org.densecl.cli.FinetuneCommand;
import org.densecl.cli.PretrainCommand;
import org.densecl.data.Progress;
import org.densecl.data.YamlConfig;
import org.densecl.data.io.AtomicFiles;
import org.densecl.densecl.PretrainConfig;
import org.densecl.densecl.PretrainVerdict;
import org.densecl.seg.FinetuneConfig;
import org.densecl.seg.FinetuneOutputs;
import org.densecl.seg.eval.SegMetrics;

/**
 * {@code ./densecl experiment}: does DenseCL pretraining on unlabeled ultrasound help segmentation when labels
 * are scarce? Pretrains once (DIR/pretrain), reads its collapse verdict, fine-tunes both arms for every trial
 * (and labeled-set size) as {@link ExperimentPlan} lays out, then writes the report ({@link ExperimentReport}).
 *
 * <p>Every phase is a command of its own run in-process, with that command's own checkpoints, so the
 * experiment can be killed at any point and continues when run again with the same output folder: a
 * finished phase (summary.json, metrics.json) is kept, an interrupted one resumes exactly from its
 * checkpoint, and a folder made with another config is refused instead of mixed in.
 */
public final class Experiment {
    /**
     * @param sizes          --sizes (null or empty: the config's)
     * @param allowCollapsed go on to the fine-tunings after a collapsed pretraining
     * @param stopAt         stop the first phase that trains in this invocation after this step / iteration
     */
    public record Options(Path config, List<String> overrides, Path output, List<Integer> sizes, boolean allowCollapsed,
                          Long stopAt) {
        public Options {
            overrides = List.copyOf(overrides);
        }
    }

    private final Options opts;
    private final PrintStream console;

    public Experiment(Options opts, PrintStream console) {
        this.opts = opts;
        this.console = console;
    }

    /** Runs or continues the experiment; true when the report was written, false when --stop-at ended it early. */
    public boolean run() throws IOException {
        long start = System.nanoTime();
        ExperimentConfig cfg = ExperimentConfig.load(opts.config(), opts.overrides());
        ExperimentPlan plan = new ExperimentPlan(cfg, opts.output(), cfg.sizes(opts.sizes()));
        Path preConfig = Path.of(cfg.pretrain().config()), ftConfig = Path.of(cfg.finetune().config());
        // Every config is read now, so a typo costs seconds instead of surfacing after the pretraining.
        PretrainConfig pre = stage("pretrain", () -> PretrainConfig.load(preConfig, cfg.pretrain().overrides()));
        Map<ExperimentPlan.RunSpec, FinetuneConfig> runs = new LinkedHashMap<>();
        for (ExperimentPlan.RunSpec r : plan.runs()) {
            runs.put(r, stage("finetune", () -> FinetuneConfig.load(ftConfig, r.overrides())));
        }
        FinetuneConfig first = runs.values().iterator().next();
        // The cpu kernels' vector width for the narrower of the two models, before any kernel runs.
        WidthChoice.forResNetWidth(Math.min(pre.model().widthMultiplier(), first.model().widthMultiplier()));
        requireCompatible(pre, first, cfg);
        Files.createDirectories(plan.output());
        AtomicFiles.deleteStaleTemporaries(plan.output()); // a kill while writing the report leaves one
        Timings timings = Timings.load(plan.output().resolve("timings.json"));

        int phases = 1 + runs.size();
        console.printf(Locale.ROOT, "experiment: %s -> %s: 1 pretraining + %d fine-tunings (%d trial(s) x 2 arms x"
                        + " labeled-set size(s) %s)%n", opts.config(), plan.output(), runs.size(), cfg.trials(),
                plan.sizes());
        LabeledData labeled = LabeledData.prepare(first.data(), first.model().numClasses(), plan.sizes(), console);

        Long stop = opts.stopAt();
        PhaseResult p = pretrain(plan, preConfig, cfg.pretrain().overrides(), yaml(pre), phases, stop, timings);
        if (p.stopped()) {
            return false;
        }
        stop = p.trained() ? null : stop;
        PretrainVerdict verdict = PretrainVerdict.read(plan.pretrainDir().resolve("summary.json"));
        if (!verdict.alive()) {
            String what = "the pretraining in " + plan.pretrainDir() + " COLLAPSED (" + verdict.line() + "); its backbone"
                    + " transfers worse than random init (README: test mIoU 66.2 collapsed vs 71.7 Kaiming)";
            if (!opts.allowCollapsed()) {
                throw new IllegalStateException("experiment: " + what + ". Fix the recipe (the WARNING at the end of "
                        + plan.pretrainDir().resolve("console.log") + " says what to try), pretrain again into another"
                        + " --output (e.g. pretrain.overrides: [\"run.seed=1\"]), or compare anyway with --allow-collapsed");
            }
            console.println("experiment: WARNING: " + what + "; going on (--allow-collapsed): the DenseCL arm measures a"
                    + " failed pretraining");
        }

        int k = 1, trained = 0, remaining = runs.size();
        double trainedSeconds = 0;
        for (var e : runs.entrySet()) {
            k++;
            remaining--;
            ExperimentPlan.RunSpec r = e.getKey();
            String label = String.format(Locale.ROOT, "[%d/%d] %s", k, phases, r.label(plan.efficiencyMode()));
            PhaseResult f = finetune(r, ftConfig, yaml(e.getValue()), label, labeled.count(r.size()), stop, timings,
                    plan.output());
            if (f.stopped()) {
                return false;
            }
            if (f.trained()) {
                stop = null;
                trained++;
                trainedSeconds += f.seconds();
                if (remaining > 0) {
                    console.printf(Locale.ROOT, "experiment: ETA %s for the %d fine-tuning(s) left, then the report%n",
                            Progress.duration(trainedSeconds / trained * remaining), remaining);
                }
            }
        }

        console.printf(Locale.ROOT, "experiment: [report] results.json, report.md, curves.png, overlays.png, tsne.png%s"
                + " -> %s%n", plan.efficiencyMode() ? ", efficiency.png" : "", plan.output());
        StudyResults s = ExperimentReport.write(plan, new ExperimentReport.Inputs(opts, cfg, pre, first, runs, labeled),
                verdict, timings, start);
        summary(plan, s);
        return true;
    }

    /** The closing line: mean ± std of both arms and the gap, per size. */
    private void summary(ExperimentPlan plan, StudyResults s) {
        for (int size : s.sizes()) {
            Comparison c = s.miou(size);
            console.printf(Locale.ROOT, "experiment: %d labeled images, test mIoU over %d trial(s): DenseCL %s +- %s,"
                            + " Kaiming %s +- %s, gap %s (%s the larger std%s)%n", s.trainCount(size), c.densecl().n(),
                    ReportMarkdown.f(c.densecl().mean()), ReportMarkdown.f(c.densecl().std()),
                    ReportMarkdown.f(c.kaiming().mean()), ReportMarkdown.f(c.kaiming().std()),
                    ReportMarkdown.signed(c.gap()), c.exceedsSpread() ? "exceeds" : "does not exceed",
                    Double.isFinite(c.pairedT()) ? String.format(Locale.ROOT, "; paired t %.2f, df %d", c.pairedT(),
                            c.df()) : "");
        }
        if (!s.verdict().alive()) {
            console.println("experiment: WARNING: the pretraining COLLAPSED; the DenseCL numbers measure a failed run");
        }
        console.println("experiment: report -> " + plan.output().resolve("report.md"));
    }

    /** What a phase did: trained (not skipped), stopped early by --stop-at, and its wall seconds. */
    private record PhaseResult(boolean trained, boolean stopped, double seconds) {}

    private PhaseResult pretrain(ExperimentPlan plan, Path config, List<String> overrides, String yaml, int phases,
                                 Long stop, Timings timings) throws IOException {
        Path dir = plan.pretrainDir();
        RunState.requireSameConfig(dir, yaml, "pretraining");
        if (Files.isRegularFile(dir.resolve("summary.json"))) {
            console.printf(Locale.ROOT, "experiment: [1/%d] pretraining: finished earlier in %s%n", phases, dir);
            return new PhaseResult(false, false, 0);
        }
        boolean resume = Files.isRegularFile(dir.resolve("checkpoint.safetensors"));
        console.printf(Locale.ROOT, "experiment: [1/%d] pretraining %s%s -> %s%s (full output: %s)%n", phases, config,
                overrides.isEmpty() ? "" : " with " + overrides, dir, resume ? ", resuming from its checkpoint" : "",
                dir.resolve("console.log"));
        long t0 = System.nanoTime();
        PretrainVerdict v;
        try (PhaseConsole c = PhaseConsole.open(console, dir.resolve("console.log"), "pretrain", 30)) {
            v = PretrainCommand.pretrain(config, overrides, dir, resume, stop);
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        timings.add("pretrain", sec);
        if (v == null) {
            console.printf(Locale.ROOT, "experiment: stopped in the pretraining at step %d (--stop-at); run again with"
                    + " the same --output to continue%n", stop);
            return new PhaseResult(true, true, sec);
        }
        console.printf(Locale.ROOT, "experiment: [1/%d] pretraining done in %s: %s%n", phases,
                Progress.duration(sec), v.line());
        return new PhaseResult(true, false, sec);
    }

    private PhaseResult finetune(ExperimentPlan.RunSpec r, Path config, String yaml, String label, int images, Long stop,
                                 Timings timings, Path output) throws IOException {
        Path dir = r.folder();
        RunState.requireSameConfig(dir, yaml, "fine-tuning");
        if (Files.isRegularFile(dir.resolve("metrics.json"))) {
            console.printf(Locale.ROOT, "experiment: %s: finished earlier (test mIoU %s) in %s%n", label,
                    ReportMarkdown.f(FinetuneOutputs.readMiou(dir.resolve("metrics.json"))), dir);
            return new PhaseResult(false, false, 0);
        }
        boolean resume = Files.isRegularFile(dir.resolve("last.safetensors"));
        console.printf(Locale.ROOT, "experiment: %s (seed %d, %d labeled images, init %s) -> %s%s%n", label, r.trial(),
                images, r.init(), dir, resume ? ", resuming from last.safetensors" : "");
        long t0 = System.nanoTime();
        SegMetrics m;
        try (PhaseConsole c = PhaseConsole.open(console, dir.resolve("console.log"), r.arm() + " t" + r.trial(), 20)) {
            m = FinetuneCommand.finetune(config, r.overrides(), r.init(), dir, resume, stop);
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        timings.add("finetune/" + r.relative(output), sec);
        if (m == null) {
            console.printf(Locale.ROOT, "experiment: stopped in %s at iteration %d (--stop-at); run again with the same"
                    + " --output to continue%n", dir, stop);
            return new PhaseResult(true, true, sec);
        }
        console.printf(Locale.ROOT, "experiment: %s: test mIoU %.2f, mDice %.2f (%s)%n", label, m.mIoU(), m.mDice(),
                Progress.duration(sec));
        return new PhaseResult(true, false, sec);
    }

    /** The pretrained backbone must fit the fine-tuning model; both backends must exist here (a GPU for cuda). */
    private void requireCompatible(PretrainConfig pre, FinetuneConfig ft, ExperimentConfig cfg) {
        PretrainConfig.Model a = pre.model();
        FinetuneConfig.Model b = ft.model();
        if (a.depth() != b.depth() || a.widthMultiplier() != b.widthMultiplier() || a.inChannels() != b.inChannels()) {
            throw new IllegalArgumentException(opts.config() + ": the pretraining config " + cfg.pretrain().config()
                    + " makes a ResNet-" + a.depth() + " at width " + a.widthMultiplier() + " with " + a.inChannels()
                    + " input channel(s), the fine-tuning config " + cfg.finetune().config() + " a ResNet-" + b.depth()
                    + " at width " + b.widthMultiplier() + " with " + b.inChannels() + "; make model.depth,"
                    + " widthMultiplier and inChannels agree");
        }
        for (String backend : List.of(pre.run().backend(), ft.run().backend())) {
            if (!Backends.known(backend)) {
                throw new IllegalArgumentException(opts.config() + ": run.backend '" + backend + "' is not in this build"
                        + " (backends: " + String.join(", ", Backends.NAMES) + ")");
            }
            // Refuse before anything is created, not hours in when the fine-tuning stage opens its backend.
            org.densecl.backend.cuda.CudaProbe gpu = backend.startsWith("cuda")
                    ? org.densecl.backend.cuda.CudaDevices.probe() : null;
            if (gpu != null && !gpu.available()) {
                throw new IllegalArgumentException(opts.config() + ": run.backend '" + backend + "' needs a GPU, and"
                        + " none loads here: " + gpu.reason());
            }
        }
    }

    /** Loads a stage's config, naming the experiment config and the stage in any error. */
    private <T> T stage(String name, java.util.function.Supplier<T> load) {
        try {
            return load.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(opts.config() + ": " + name + ": " + e.getMessage(), e);
        }
    }

    /** The effective config as the commands write it to config.yaml. */
    static String yaml(Object cfg) {
        try {
            return YamlConfig.mapper().writeValueAsString(cfg);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the config as YAML: " + e.getMessage(), e);
        }
    }
}
