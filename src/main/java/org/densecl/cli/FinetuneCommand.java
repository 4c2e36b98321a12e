package org.densecl.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.backend.cpu.simd.WidthChoice;
import org.densecl.data.Progress;
import org.densecl.data.YamlConfig;
import org.densecl.data.augment.AugmentConfig;
import org.densecl.data.augment.SegAugment;
import org.densecl.data.io.AtomicFiles;
import org.densecl.data.io.SegDataset;
import org.densecl.data.loader.PrefetchLoader;
import org.densecl.data.loader.SegBatch;
import org.densecl.io.LoadReport;
import org.densecl.io.SafeTensorsException;
import org.densecl.io.StateDict;
import org.densecl.nn.LrSchedule;
import org.densecl.nn.Sgd;
import org.densecl.seg.FinetuneCheckpoint;
import org.densecl.seg.FinetuneConfig;
import org.densecl.seg.FinetuneData;
import org.densecl.seg.FinetuneOutputs;
import org.densecl.seg.SegEvaluator;
import org.densecl.seg.SegmentationModel;
import org.densecl.seg.SegmentationPredictor;
import org.densecl.seg.eval.SegMetrics;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.train.DoubleBufferedInputs;
import org.densecl.train.NonFiniteCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl finetune}: FCN R50-D8 fine-tuning (spec 4) on an mmseg-layout folder, from mmseg's random
 * init or a pretrained backbone. Iteration-based, as mmseg: SGD on every parameter, poly lr per iteration,
 * batches of augmented crops from the (optionally limited) train split, validation on the val split every
 * eval.every iterations and at the end, the final model scored on the test split. Writes into the output
 * folder: config.yaml, log.jsonl (one record per iteration, val_* on validation iterations), last.safetensors
 * (model + SGD momentum, exact {@code --resume}), best.safetensors (weights of the best val mIoU),
 * metrics.json (test split), curve.png (val mIoU) and loss.png. All files are written atomically but the log,
 * which a resume cuts back to its checkpoint.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune FCN R50-D8 for segmentation (mmseg's recipe, spec 4) on an mmseg-layout folder.",
                "Simulates the folder on first use if data.root does not exist.",
                "Validation and test infer as eval.mode says: mmseg's 'whole' (each image at its own size) or 'slide'"
                + " (eval.crop windows every eval.stride pixels, overlapping logits averaged)."})
public final class FinetuneCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", required = true, description = "run config (configs/finetune_*.yaml)")
    Path config;

    @Option(names = "--init", paramLabel = "kaiming|FILE", required = true, description = {"'kaiming': mmseg's random"
            + " init; or a safetensors file with a torchvision-named backbone (pretrain's backbone.safetensors, keys"
            + " may start with backbone.), loaded into the backbone only; the heads start fresh"})
    String init;

    @Option(names = "--output", paramLabel = "DIR", required = true, description = "output folder")
    Path output;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a config key, e.g. --set optim.iterations=50")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--resume", description = "continue exactly from DIR/last.safetensors (same config and --init);"
            + " without one there yet, start at iteration 0 (so the same command can be rerun until the run is done)")
    boolean resume;

    @Option(names = "--stop-at", paramLabel = "N", description = "stop after iteration N with a checkpoint, as if"
            + " interrupted; --resume continues the same schedule")
    Long stopAt;

    /**
     * The command's work, callable in-process (the experiment runs it per arm and trial): as
     * {@code ./densecl finetune --config config --set overrides... --init init --output output [--resume]
     * [--stop-at stopAt]}, printing to System.err. Returns the final model's test metrics, or null when
     * {@code stopAt} ended the run early.
     */
    public static SegMetrics finetune(Path config, List<String> overrides, String init, Path output, boolean resume,
                                      Long stopAt) throws IOException {
        FinetuneCommand c = new FinetuneCommand();
        c.config = config;
        c.overrides = new ArrayList<>(overrides);
        c.init = init;
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

    private SegMetrics run() throws IOException {
        FinetuneConfig cfg = FinetuneConfig.load(config, overrides);
        WidthChoice.forResNetWidth(cfg.model().widthMultiplier()); // before any cpu kernel runs
        String yaml = YamlConfig.mapper().writeValueAsString(cfg);
        System.err.println("finetune: config " + config + (overrides.isEmpty() ? "" : " with " + overrides) + ":\n" + yaml);
        AugmentConfig.Segmentation augCfg = cfg.augmentation();
        FinetuneConfig.Data d = cfg.data();
        Path root = FinetuneData.ensure(d, System.err); // the data first: an error there leaves no output
        int k = cfg.model().numClasses();
        SegDataset pool = FinetuneData.split(root, "train", k), val = FinetuneData.split(root, "val", k),
                test = FinetuneData.split(root, "test", k);
        long seed = cfg.run().seed();
        SegDataset train = FinetuneData.trainingImages(pool, d, seed);
        Files.createDirectories(output);
        AtomicFiles.deleteStaleTemporaries(output); // a kill in the middle of a write leaves one
        AtomicFiles.writeString(output.resolve("config.yaml"), yaml);
        String configJson = YamlConfig.json(cfg), augmentJson = YamlConfig.json(augCfg);
        int limit = train.size();
        int n = d.batch(), crop = d.crop(), every = cfg.eval().every();
        long total = cfg.optim().iterations();
        long end = stopAt == null ? total : Math.max(0, Math.min(total, stopAt));
        Path last = output.resolve("last.safetensors"), bestFile = output.resolve("best.safetensors");
        Path log = output.resolve("log.jsonl");
        try (Backend be = Backends.open(cfg.run().backend(), cfg.run().threads(), "vector")) {
            SegmentationModel model = new SegmentationModel(be, cfg.model().segmentation(), DType.F32, n, crop, crop, k);
            model.initialize(seed);
            float momentum = (float) cfg.optim().momentum(), wd = (float) cfg.optim().weightDecay();
            Sgd sgdBackbone = new Sgd(be, model.backbone().parameters(), momentum, wd, true);
            Sgd sgdHeads = new Sgd(be, model.headParameters(), momentum, wd, true);
            LrSchedule schedule = cfg.optim().schedule();
            System.err.printf(Locale.ROOT, "finetune: %d of %d training images (%s), %d val, %d test; batch %d of %dx%d"
                            + " crops; %d iterations; backend %s; %,d parameters%n", limit, pool.size(), d.trainSubset(),
                    val.size(), test.size(), n,
                    crop, crop, total, cfg.run().backend(), model.backbone().parameters().trainableCount()
                            + model.headParameters().trainableCount());

            long it = 0, bestIt = 0;
            double best = Double.NaN;
            boolean resuming = resume && Files.isRegularFile(last);
            if (resume && !resuming) { // killed before its first checkpoint, or never run
                System.err.println("finetune: --resume: no checkpoint in " + output + " yet, nothing to resume: starting"
                        + " at iteration 0");
            }
            if (resuming) {
                FinetuneCheckpoint.State s = FinetuneCheckpoint.resume(last, model, sgdBackbone, sgdHeads, be);
                requireSameRun(s, seed, configJson);
                it = s.iteration();
                best = s.bestMiou();
                bestIt = s.bestIteration();
                FinetuneOutputs.truncate(log, it);
                System.err.println("finetune: resumed at iteration " + it + " from " + last);
            } else {
                applyInit(model, be);
                Files.deleteIfExists(log);
                Files.deleteIfExists(bestFile);
                Files.deleteIfExists(output.resolve("metrics.json"));
            }
            SegEvaluator evaluator = new SegEvaluator((h, w) -> SegmentationPredictor.sharing(be, model, h, w), k, augCfg,
                    cfg.eval());
            // Two copies of the images (N, H, W, Cin) and labels (N, H, W): batch k+1's upload overlaps step k.
            DoubleBufferedInputs inputs = new DoubleBufferedInputs(be, new DType[] {DType.F32, DType.I32},
                    new Shape[] {Shape.of(n, crop, crop, cfg.model().inChannels()), Shape.of(n, crop, crop)});
            long start = System.nanoTime(), startIt = it, evalNanos = 0; // img/s counts training time only
            double sumT = 0, sumD = 0, sumA = 0;
            int inWindow = 0;
            SegAugment aug = new SegAugment(augCfg);
            try (PrefetchLoader<SegBatch> loader = new PrefetchLoader<>(SegBatch.filler(train, aug, seed), limit,
                    new PrefetchLoader.Options(n, seed, true, true, d.workers(), 3), it);
                 BufferedWriter w = Files.newBufferedWriter(log, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                         StandardOpenOption.APPEND)) {
                if (it < end) {
                    SegBatch first = loader.take().batch();
                    inputs.stage(first.images, first.labels);
                }
                while (it < end) {
                    inputs.next();
                    Tensor images = inputs.input(0), labels = inputs.input(1);
                    if (it + 1 < end) { // queued before this step's kernels, so the copy runs beside them
                        SegBatch b = loader.take().batch();
                        inputs.stage(b.images, b.labels);
                    }
                    float lr = (float) schedule.lr(it);
                    SegmentationModel.Losses l = model.lossAndGradients(images, labels, it);
                    requireFinite(be, model, l, it + 1, last);
                    sgdBackbone.step(lr);
                    sgdHeads.step(lr);
                    it++;
                    SegMetrics vm = null;
                    if (it % every == 0 || it == total) {
                        long evalStart = System.nanoTime();
                        vm = evaluator.evaluate(val, null).metrics();
                        evalNanos += System.nanoTime() - evalStart;
                        boolean better = Double.isNaN(best) || vm.mIoU() > best;
                        if (better) {
                            best = vm.mIoU();
                            bestIt = it;
                        }
                        System.err.printf(Locale.ROOT, "finetune: val @ %d: %s  (best mIoU %.2f @ %d)%n", it, vm.summary(),
                                best, bestIt);
                        if (better) {
                            FinetuneCheckpoint.saveWeights(bestFile, model, be, new FinetuneCheckpoint.State(it, seed,
                                    init, best, bestIt, configJson, augmentJson));
                        }
                    }
                    w.write(FinetuneOutputs.record(it, l, lr, vm));
                    sumT += l.total();
                    sumD += l.decode();
                    sumA += l.aux();
                    inWindow++;
                    if (it % cfg.run().logEvery() == 0 || it == end) {
                        w.flush();
                        double sec = (System.nanoTime() - start) / 1e9, done = it - startIt;
                        double trainSec = sec - evalNanos / 1e9;
                        System.err.printf(Locale.ROOT, "iter %d/%d  loss %.4f (decode %.4f, aux %.4f)  lr %.4g  %.1f img/s"
                                        + "  ETA %s%n", it, total, sumT / inWindow, sumD / inWindow, sumA / inWindow, lr,
                                done * n / trainSec, Progress.duration((total - it) * sec / done));
                        sumT = sumD = sumA = 0;
                        inWindow = 0;
                    }
                    if (it % cfg.run().checkpointEvery() == 0 || it == end) {
                        w.flush(); // every record up to the checkpoint is in the log before it
                        FinetuneCheckpoint.save(last, model, sgdBackbone, sgdHeads, be, new FinetuneCheckpoint.State(it,
                                seed, init, best, bestIt, configJson, augmentJson));
                    }
                }
            }
            if (it < total) {
                if (it == 0) { // --stop-at 0: the initialised model, e.g. to inspect what --init loaded
                    FinetuneCheckpoint.save(last, model, sgdBackbone, sgdHeads, be, new FinetuneCheckpoint.State(0, seed,
                            init, best, bestIt, configJson, augmentJson));
                }
                System.err.println("finetune: stopped at iteration " + it + " of " + total
                        + " (--stop-at); continue with --resume");
                return null;
            }
            SegMetrics tm = evaluator.evaluate(test, null).metrics();
            Path curve = output.resolve("curve.png"), loss = output.resolve("loss.png");
            FinetuneOutputs.writeCurves(log, curve, loss, output.getFileName() + " (init " + init + ")");
            Path metrics = output.resolve("metrics.json"); // last: the experiment takes it to mean the run is done
            FinetuneOutputs.writeMetrics(metrics, tm, total, init, best, bestIt);
            System.err.printf(Locale.ROOT, "finetune: %d iterations (%s this run); test %s; best val mIoU %.2f @ %d"
                            + " -> %s, %s, %s%n", total, Progress.duration((System.nanoTime() - start) / 1e9),
                    tm.summary(), best, bestIt, metrics, curve, last);
            return tm;
        }
    }

    /** --init: kaiming (nothing to load: initialize already did mmseg's init) or a backbone file. */
    private void applyInit(SegmentationModel model, Backend be) {
        if (init.equals("kaiming")) {
            System.err.println("finetune: --init kaiming: mmseg's random init (backbone Kaiming fan_out, heads as mmcv)");
            return;
        }
        Path file = Path.of(init);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--init must be 'kaiming' or a safetensors file; " + file + " does not exist");
        }
        LoadReport r;
        try {
            r = StateDict.load(file, model.backbone().parameters(), be, false);
        } catch (SafeTensorsException e) {
            throw new IllegalArgumentException("--init " + file + " is not a readable safetensors file: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--init " + file + " does not fit this backbone (pretrain it with the"
                    + " same model.depth, widthMultiplier and inChannels): " + e.getMessage(), e);
        }
        if (r.loaded().isEmpty()) {
            throw new IllegalArgumentException("--init " + file + " loads nothing into the backbone: none of its "
                    + r.unexpected().size() + " keys is a torchvision ResNet name such as conv1.weight (optionally"
                    + " under backbone.); give pretrain's backbone.safetensors");
        }
        System.err.println("finetune: --init " + file + " into the backbone: " + r);
        if (!r.missing().isEmpty()) {
            System.err.println("finetune: warning: " + r.missing().size() + " backbone tensors keep their random init");
        }
    }

    /** Stops a diverging run with one line naming the iteration and what to try. */
    private static void requireFinite(Backend be, SegmentationModel m, SegmentationModel.Losses l, long iteration,
                                      Path last) {
        String advice = "; lower optim.lr, check the data, or --resume from " + last + " if it holds an earlier iteration";
        if (!Double.isFinite(l.total())) {
            throw new IllegalStateException("finetune: loss is " + l.total() + " at iteration " + iteration + " (decode "
                    + l.decode() + ", aux " + l.aux() + ")" + advice);
        }
        try {
            NonFiniteCheck.afterBackward(be, iteration, null, m.headParameters());
            NonFiniteCheck.afterBackward(be, iteration, null, m.backbone().parameters());
        } catch (IllegalStateException e) { // "step N: non-finite gradient in NAME (...); lower the learning rate ..."
            throw new IllegalStateException("finetune: " + e.getMessage().replaceFirst("^step ", "iteration ")
                    + " (last checkpoint: " + last + ")", e);
        }
    }

    /** A resume must continue the same run: same seed, --init and model/optim/data sections. */
    private void requireSameRun(FinetuneCheckpoint.State s, long seed, String configJson) {
        if (s.seed() != seed || !s.init().equals(init)) {
            throw new IllegalArgumentException("--resume: the checkpoint was made with run.seed " + s.seed() + " and --init "
                    + s.init() + ", not " + seed + " and " + init + "; resume with the same config and --init");
        }
        for (String section : List.of("model", "optim", "data")) {
            if (!FinetuneOutputs.section(s.configJson(), section).equals(FinetuneOutputs.section(configJson, section))) {
                throw new IllegalArgumentException("--resume: the config's " + section + " section differs from the"
                        + " checkpoint's; resume with the same config (only eval and run may change)");
            }
        }
    }
}
