package org.densecl.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.data.io.PngWriter;
import org.densecl.data.io.SegDataset;
import org.densecl.data.sim.SimulatedFolder;
import org.densecl.seg.FinetuneConfig;
import org.densecl.seg.FinetuneData;
import org.densecl.seg.FinetunedModel;
import org.densecl.seg.SegEvaluator;
import org.densecl.seg.eval.SegMetrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./densecl evaluate}: scores a fine-tuning checkpoint (last.safetensors or best.safetensors) on a split
 * of an mmseg-layout folder. The model, its input normalisation, backend and threads are rebuilt from the
 * config and augmentation JSON the checkpoint carries, so evaluating the final last.safetensors on the run's
 * test split reproduces metrics.json exactly. The inference mode is the checkpoint's eval section unless
 * --mode, --crop or --stride say otherwise.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Score a fine-tuned FCN checkpoint on a split of an mmseg-layout folder: per-class IoU / Dice"
                + " / accuracy, then mIoU, mDice, mAcc and aAcc (percent, mmseg's definitions).",
                "Inference is the checkpoint's eval.mode unless --mode says otherwise: mmseg's 'whole' (one forward per"
                + " image at its own size) or 'slide' (windows of --crop every --stride pixels, shifted back inside the"
                + " image, overlapping logits averaged; an image smaller than the crop runs whole)."})
public final class EvaluateCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", paramLabel = "FILE", required = true,
            description = "last.safetensors or best.safetensors of ./densecl finetune")
    Path checkpoint;

    @Option(names = "--data", paramLabel = "DIR", required = true, description = "mmseg-layout folder (img_dir/, ann_dir/)")
    Path data;

    @Option(names = "--split", paramLabel = "NAME", defaultValue = "test", description = "split to score (default ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--save-predictions", paramLabel = "DIR", description = "also write each predicted mask as DIR/<name>.png"
            + " (gray, pixel value = class index, as mmseg's ann_dir)")
    Path predictions;

    @Option(names = "--mode", paramLabel = "whole|slide", description = "inference mode (default: the checkpoint's eval.mode)")
    String mode;

    @Option(names = "--crop", paramLabel = "H,W", split = ",", hideParamSyntax = true,
            description = "slide mode's window height and width (default: the checkpoint's eval.crop)")
    List<Integer> crop;

    @Option(names = "--stride", paramLabel = "H,W", split = ",", hideParamSyntax = true,
            description = "slide mode's step between windows, at most the crop (default: the checkpoint's eval.stride)")
    List<Integer> stride;

    @Override
    public Integer call() {
        SegMetrics m = evaluate();
        System.out.print(m.table(SegEvaluator.classNames(data, m.numClasses())));
        return 0;
    }

    /** Scores the checkpoint (and writes the predictions when asked); what call() prints. */
    public SegMetrics evaluate() {
        FinetunedModel model = FinetunedModel.open(checkpoint);
        FinetuneConfig cfg = model.config();
        int k = cfg.model().numClasses();
        SimulatedFolder.verify(data); // a simulated folder must hold what its manifest says
        SegDataset set = FinetuneData.split(data, split, k);
        FinetuneConfig.Eval inference = inference(cfg.eval());
        System.err.printf(Locale.ROOT, "evaluate: %s (iteration %d, init %s) on %s; backend %s; %s%n", checkpoint,
                model.state().iteration(), model.state().init(), set, cfg.run().backend(), inference.slide()
                        ? "slide inference, crop " + inference.crop() + " stride " + inference.stride() : "whole inference");
        try (Backend be = Backends.open(cfg.run().backend(), cfg.run().threads(), "vector")) {
            SegEvaluator evaluator = model.evaluator(be, inference);
            PngWriter png = predictions == null ? null : new PngWriter(0.9f);
            SegMetrics m = evaluator.evaluate(set, png == null ? null : (sample, pred) ->
                    png.writeGray(predictions.resolve(sample.name() + ".png"), pred.labels(), pred.height(), pred.width()))
                    .metrics();
            if (predictions != null) {
                System.err.println("evaluate: " + set.size() + " predicted masks -> " + predictions);
            }
            return m;
        }
    }

    /** The checkpoint's eval section with --mode, --crop and --stride put in. */
    private FinetuneConfig.Eval inference(FinetuneConfig.Eval saved) {
        String m = mode == null ? saved.mode() : mode;
        if (!m.equals("slide") && (crop != null || stride != null)) {
            throw new IllegalArgumentException("--crop and --stride only apply to slide inference; the mode is '" + m
                    + "'" + (mode == null ? " (the checkpoint's eval.mode)" : "") + ": add --mode slide");
        }
        try {
            return new FinetuneConfig.Eval(saved.every(), m, crop == null ? saved.crop() : crop,
                    stride == null ? saved.stride() : stride);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--mode/--crop/--stride (over the checkpoint's eval " + saved.mode()
                    + ", crop " + saved.crop() + ", stride " + saved.stride() + "): " + e.getMessage(), e);
        }
    }
}
