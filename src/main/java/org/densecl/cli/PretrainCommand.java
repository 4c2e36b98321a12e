package org.densecl.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.backend.cpu.CpuBackend;
import org.densecl.backend.cpu.simd.WidthChoice;
import org.densecl.data.Progress;
import org.densecl.data.YamlConfig;
import org.densecl.data.augment.AugmentConfig;
import org.densecl.data.augment.PretrainViews;
import org.densecl.data.io.AtomicFiles;
import org.densecl.data.io.ImageFolder;
import org.densecl.data.loader.PrefetchLoader;
import org.densecl.data.loader.PretrainBatch;
import org.densecl.data.sim.SimulatedFolder;
import org.densecl.data.sim.SimulationRun;
import org.densecl.data.sim.SimulatorConfig;
import org.densecl.densecl.DenseClCheckpoint;
import org.densecl.densecl.DenseClModel;
import org.densecl.densecl.EmbeddingStats;
import org.densecl.densecl.PretrainConfig;
import org.densecl.densecl.PretrainVerdict;
import org.densecl.io.StateDict;
import org.densecl.nn.LrSchedule;
import org.densecl.report.LossCurve;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.train.DoubleBufferedInputs;
import org.densecl.train.TrainingLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl pretrain}: DenseCL pretraining on an image folder ({@link DenseClModel}). Writes into
 * the output folder: config.yaml (the effective config), log.jsonl (one record per step), an atomic
 * checkpoint.safetensors every run.checkpointEvery steps and at the end, and backbone.safetensors (the
 * query backbone under torchvision names, for fine-tuning). {@code --resume} continues from the checkpoint
 * exactly: parameters, momentum buffers, key encoder, queues, and the loader starts at the next batch; with
 * no checkpoint yet it starts afresh, so a killed run is continued by running the same command again.
 * {@code --stop-at STEP} ends a run early with a checkpoint, as an interruption would.
 *
 * <p>Log fields: loss = loss_global + loss_dense, each already weighted by (1 - lambda) and lambda, as the
 * reference's {@code loss_contra_single} and {@code loss_contra_dense}; lr is the rate used for that step.
 */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = {"DenseCL pretraining of a ResNet backbone on an image folder.",
                "Simulates the folder on first use if it does not exist (data.root)."})
public final class PretrainCommand implements Callable<Integer> {
    private static final Pattern STEP = Pattern.compile("^\\{\"step\":(\\d+),");

    @Option(names = "--config", paramLabel = "FILE", required = true, description = "run config (configs/densecl_*.yaml)")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a config key, e.g. --set optim.epochs=1")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "runs/pretrain", description = "output folder (default ${DEFAULT-VALUE})")
    Path output;

    @Option(names = "--resume", description = "continue from DIR/checkpoint.safetensors; without one there yet, start"
            + " at step 0 (so the same command can be rerun until the run is done)")
    boolean resume;

    @Option(names = "--stop-at", paramLabel = "STEP", description = "stop after this step (a checkpoint is written), as if"
            + " interrupted; --resume continues the same schedule")
    Long stopAt;

    /**
     * The command's work, callable in-process (the experiment pretrains through it): as {@code ./densecl
     * pretrain --config config --set overrides... --output output [--resume] [--stop-at stopAt]}, printing to
     * System.err. Returns the run's verdict (also in output/summary.json), or null when {@code stopAt} ended
     * the run early.
     */
    public static PretrainVerdict pretrain(Path config, List<String> overrides, Path output, boolean resume, Long stopAt)
            throws IOException {
        PretrainCommand c = new PretrainCommand();
        c.config = config;
        c.overrides = new ArrayList<>(overrides);
        c.output = output;
        c.resume = resume;
        c.stopAt = stopAt;
        return c.run();
    }

    @Override
    public Integer call() throws IOException {
        run();
        return 0;
    }

    private PretrainVerdict run() throws IOException {
        PretrainConfig cfg = PretrainConfig.load(config, overrides);
        WidthChoice.forResNetWidth(cfg.model().widthMultiplier()); // before any cpu kernel runs
        String yaml = YamlConfig.mapper().writeValueAsString(cfg);
        System.err.println("pretrain: config " + config + (overrides.isEmpty() ? "" : " with " + overrides) + ":\n" + yaml);
        ImageFolder folder = ensureImages(cfg.data()); // before any output: a data error leaves none
        Files.createDirectories(output);
        AtomicFiles.deleteStaleTemporaries(output); // a kill in the middle of a write leaves one
        AtomicFiles.writeString(output.resolve("config.yaml"), yaml);
        String configJson = YamlConfig.json(cfg);

        AugmentConfig.Pretrain base = AugmentConfig.load(Path.of(cfg.data().augment()), List.of()).pretrain();
        PretrainViews views = new PretrainViews(new AugmentConfig.Pretrain(cfg.data().size(), cfg.data().cropScale(),
                base.cropRatio(), base.jitterProbability(), base.brightness(), base.contrast(), base.blurProbability(),
                base.blurSigma(), base.flipProbability(), base.mean(), base.std(), cfg.model().inChannels()));
        int n = cfg.data().batch(), size = cfg.data().size(), epochs = cfg.optim().epochs();
        long seed = cfg.run().seed();
        long perEpoch = folder.size() / n, total = epochs * perEpoch; // drop_last, as the reference
        if (perEpoch == 0) {
            throw new IllegalArgumentException("pretrain: " + folder.size() + " images in " + folder.root()
                    + " make no full batch of " + n);
        }
        int queue = cfg.densecl().queueSize();
        if (4L * queue > folder.size()) { // reference note: a queue near the data set size holds stale copies of each anchor
            System.err.printf(Locale.ROOT, "pretrain: warning: densecl.queueSize %d is more than 1/4 of the %d images:"
                    + " older keys of an anchor's own image sit in the queue as negatives; use <= %d%n", queue,
                    folder.size(), Math.max(n, folder.size() / 4 / n * n));
        }
        try (Backend be = Backends.open(cfg.run().backend(), cfg.run().threads(), "vector")) {
            LrSchedule schedule = LrSchedule.withLinearWarmup(
                    LrSchedule.perEpoch(LrSchedule.cosine(cfg.optim().lr(), 0, epochs), perEpoch), cfg.optim().warmupSteps(), 0);
            DenseClModel model = new DenseClModel(be, cfg.model().resnet(), DType.F32, n, size, size, cfg.options());
            model.initialize(seed);
            System.err.printf(Locale.ROOT, "pretrain: %d images, batch %d, %d steps/epoch, %d epochs = %d steps; backend %s;"
                            + " backbone %,d parameters, C5 %s%n", folder.size(), n, perEpoch, epochs, total, cfg.run().backend(),
                    model.backboneQuery().parameters().trainableCount(), model.backboneQuery().c5().shape());

            Path ckpt = output.resolve("checkpoint.safetensors");
            Path log = output.resolve("log.jsonl");
            long step = 0;
            boolean resuming = resume && Files.isRegularFile(ckpt);
            if (resume && !resuming) { // killed before its first checkpoint, or never run
                System.err.println("pretrain: --resume: no checkpoint in " + output + " yet, nothing to resume: starting"
                        + " at step 0");
            }
            if (resuming) {
                DenseClCheckpoint.State s = DenseClCheckpoint.load(ckpt, model, be);
                if (s.seed() != seed) {
                    throw new IllegalArgumentException("--resume: the checkpoint's seed " + s.seed() + " differs from run.seed "
                            + seed + "; resume with the same config");
                }
                step = s.step();
                TrainingLog.truncate(log, STEP, step);
                System.err.println("pretrain: resumed at step " + step + " from " + ckpt);
            } else {
                Files.deleteIfExists(log);
            }
            Shape view = Shape.of(n, size, size, cfg.model().inChannels()); // (N, H, W, C)
            // Two copies of both views: batch k+1's upload overlaps step k on a device.
            DoubleBufferedInputs inputs = new DoubleBufferedInputs(be, new DType[] {DType.F32, DType.F32},
                    new Shape[] {view, view});
            long start = System.nanoTime(), startStep = step;
            double sumT = 0, sumG = 0, sumD = 0, sumStd = 0;
            int inWindow = 0;
            try (PrefetchLoader<PretrainBatch> loader = new PrefetchLoader<>(PretrainBatch.filler(folder::load, views, seed),
                    folder.size(), new PrefetchLoader.Options(n, seed, true, true, cfg.data().workers(), 3), step);
                 BufferedWriter w = Files.newBufferedWriter(log, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                         StandardOpenOption.APPEND)) {
                long end = stopAt == null ? total : Math.min(total, stopAt);
                if (step < end) {
                    PretrainBatch first = loader.take().batch();
                    inputs.stage(first.view1, first.view2);
                }
                while (step < end) {
                    inputs.next();
                    Tensor imQ = inputs.input(0), imK = inputs.input(1);
                    if (step + 1 < end) { // queued before this step's kernels, so the copy runs beside them
                        PretrainBatch b = loader.take().batch();
                        inputs.stage(b.view1, b.view2);
                    }
                    float lr = (float) schedule.lr(step);
                    model.setDenseWeight(step < cfg.densecl().lambdaWarmupSteps() ? 0f : (float) cfg.densecl().lambda());
                    DenseClModel.Losses l = model.step(imQ, imK, lr, step);
                    if (!Double.isFinite(l.total())) {
                        throw new IllegalStateException("pretrain: loss is " + l.total() + " at step " + step
                                + " (global " + l.global() + ", dense " + l.dense() + "); lower optim.lr or resume"
                                + " from the last checkpoint");
                    }
                    step++;
                    EmbeddingStats e = model.embeddingStats();
                    w.write(String.format(Locale.ROOT, "{\"step\":%d,\"loss\":%.6f,\"loss_global\":%.6f,\"loss_dense\":%.6f,"
                                    + "\"lr\":%.6g,\"q_std\":%.4f,\"sim_pos\":%.4f,\"sim_neg\":%.4f,\"dead_hidden\":%.4f}%n",
                            step, l.total(), l.global(), l.dense(), lr, e.qStd(), e.simPos(), e.simNeg(), e.deadHidden()));
                    sumStd += e.qStd();
                    sumT += l.total();
                    sumG += l.global();
                    sumD += l.dense();
                    inWindow++;
                    if (step % cfg.run().logEvery() == 0 || step == end) {
                        w.flush();
                        double sec = (System.nanoTime() - start) / 1e9, done = step - startStep;
                        double ips = done * n / sec, eta = (total - step) * sec / done;
                        System.err.printf(Locale.ROOT, "step %d/%d  loss %.4f (global %.4f, dense %.4f)  q_std %.2f  lr %.4g"
                                        + "  %.1f img/s  ETA %s%n", step, total, sumT / inWindow, sumG / inWindow, sumD / inWindow,
                                sumStd / inWindow, lr, ips, Progress.duration(eta));
                        sumT = sumG = sumD = sumStd = 0;
                        inWindow = 0;
                    }
                    if (step % cfg.run().checkpointEvery() == 0 || step == end) {
                        w.flush(); // every record up to the checkpoint is in the log before it
                        DenseClCheckpoint.save(ckpt, model, be, new DenseClCheckpoint.State(step, seed, configJson));
                    }
                }
            }
            if (step < total) {
                System.err.println("pretrain: stopped at step " + step + " of " + total + " (--stop-at); continue with --resume");
                return null;
            }
            Path backbone = output.resolve("backbone.safetensors");
            Map<String, String> meta = new LinkedHashMap<>(); // ordered: same run, same bytes
            meta.put("source", "densecl-j pretrain");
            meta.put("step", Long.toString(step));
            meta.put("config", configJson);
            StateDict.save(backbone, model.backboneQuery().parameters(), be, meta);
            Path curve = output.resolve("loss.png");
            LossCurve.write(log, curve, "DenseCL pretraining: " + output.getFileName(),
                    List.of("loss", "loss_global", "loss_dense"), 20);
            Path health = output.resolve("embedding.png"); // collapse shows here first (EmbeddingStats)
            LossCurve.write(log, health, "Global embedding: " + output.getFileName()
                    + " (q_std -> 0 or sim_pos = sim_neg: collapse)", List.of("q_std", "sim_pos", "sim_neg",
                    "dead_hidden"), 20);
            double seconds = (System.nanoTime() - start) / 1e9;
            System.err.printf(Locale.ROOT, "pretrain: %d steps done in %s; backbone -> %s, log -> %s, curves -> %s, %s%n",
                    step, Progress.duration(seconds), backbone, log, curve, health);
            PretrainVerdict verdict = PretrainVerdict.of(log, PretrainVerdict.Limits.DEFAULT);
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("seed", seed);
            extra.put("backend", cfg.run().backend());
            if (be instanceof CpuBackend cpu) { // the summation order: lanes per vector and threads
                extra.put("vector_floats", cpu.vectorFloats());
                extra.put("threads", cpu.threads());
            }
            extra.put("seconds_this_invocation", Math.round(seconds));
            verdict.write(output.resolve("summary.json"), extra);
            System.err.println("pretrain: " + verdict.line() + " -> " + output.resolve("summary.json"));
            if (!verdict.alive()) {
                System.err.println("pretrain: WARNING: this run failed: " + verdict.advice());
            }
            return verdict;
        }
    }

    /** The image folder of {@code data.root}; simulated there first when the folder does not exist. */
    private static ImageFolder ensureImages(PretrainConfig.Data d) {
        Path simCfg = SimulatorConfig.locateDefault();
        int threads = Runtime.getRuntime().availableProcessors();
        SimulatedFolder.ensure(SimulatorConfig.load(simCfg, List.of()), simCfg.toString(), List.of(),
                new SimulationRun.Options(Path.of(d.root()), d.simulateCount(), d.simulateSize(), d.simulateSeed(), false,
                        threads), new Progress(System.err, "simulate", d.simulateCount()), "pretrain");
        return new ImageFolder(Path.of(d.root()));
    }
}
