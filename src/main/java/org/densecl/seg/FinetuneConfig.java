package org.densecl.seg;

import java.nio.file.Path;
import java.util.List;
import org.densecl.data.YamlConfig;
import org.densecl.data.augment.AugmentConfig;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.FanMode;
import org.densecl.nn.LrSchedule;

/**
 * {@code ./densecl finetune}'s configuration (configs/finetune_*.yaml), read strictly by {@link YamlConfig}:
 * unknown or missing keys are errors naming the key and file. Defaults live in the YAML files, whose
 * comments say what every key does; the records here only check ranges.
 */
public record FinetuneConfig(Model model, Optim optim, Data data, Eval eval, Run run) {
    /** data.trainSubset's values: the first trainLimit images by name, or a draw seeded by run.seed. */
    public static final List<String> TRAIN_SUBSETS = List.of("first", "seeded");
    /** eval.mode's values: mmseg's test_cfg modes. */
    public static final List<String> EVAL_MODES = List.of("whole", "slide");

    /** FCN R50-D8 (spec 4.2) at some depth and width; the input channels and the number of classes. */
    public record Model(int depth, double widthMultiplier, int inChannels, int numClasses) {
        public Model {
            require(List.of(50, 101).contains(depth), "model.depth must be 50 or 101 (FCN R50/R101-D8), got " + depth);
            require(widthMultiplier > 0, "model.widthMultiplier must be > 0, got " + widthMultiplier);
            require(inChannels == 1 || inChannels == 3, "model.inChannels must be 1 or 3, got " + inChannels);
            require(numClasses >= 1 && numClasses < SegmentationModel.IGNORE_INDEX,
                    "model.numClasses must be in [1, 254], got " + numClasses);
        }

        /** mmseg's FCN at this depth (output stride 8, Kaiming fan_out), width-scaled, with these input channels. */
        public SegmentationConfig segmentation() {
            ResNetConfig r = ResNetConfig.resnet(depth).withOutputStride(8).withFanMode(FanMode.FAN_OUT);
            SegmentationConfig c = SegmentationConfig.fcnR50D8().withBackbone(r).withWidthMultiplier(widthMultiplier);
            return c.withBackbone(c.backbone().withInChannels(inChannels));
        }
    }

    /** SGD on every parameter (spec 4.4) and mmcv's poly schedule, per iteration. */
    public record Optim(double lr, double momentum, double weightDecay, double power, double minLr, long iterations) {
        public Optim {
            require(lr > 0 && iterations > 0, "optim.lr and optim.iterations must be > 0");
            require(momentum >= 0 && momentum < 1, "optim.momentum must be in [0, 1), got " + momentum);
            require(weightDecay >= 0 && power >= 0 && minLr >= 0, "optim.weightDecay, power and minLr must be >= 0");
        }

        public LrSchedule schedule() {
            return LrSchedule.poly(lr, power, minLr, iterations);
        }
    }

    /**
     * The mmseg-layout folder (simulated there on first use when absent, with the simulator's config and
     * {@code simulateOverrides} as its --set strings), the augmentation file whose {@code segmentation}
     * section is used with {@code scale}, {@code crop} and {@code model.inChannels} put in, the batch, loader
     * threads, {@code trainLimit}: only N training images, 0 for all, and {@code trainSubset}: which N,
     * "first" (sorted by name) or "seeded" (a random draw by run.seed, so the trials of an experiment
     * each see their own labeled subset while both arms of a trial see the same one).
     */
    public record Data(String root, int simulateCount, int simulateSize, long simulateSeed,
                       List<String> simulateOverrides, String augment, List<Integer> scale, int crop, int batch,
                       int workers, int trainLimit, String trainSubset) {
        public Data {
            require(scale.size() == 2 && scale.get(0) > 0 && scale.get(1) > 0, "data.scale must be [long, short] > 0");
            require(crop >= 16 && batch >= 1 && workers >= 1, "data.crop >= 16, data.batch >= 1, data.workers >= 1");
            require(trainLimit >= 0, "data.trainLimit must be >= 0 (0 = all training images), got " + trainLimit);
            require(TRAIN_SUBSETS.contains(trainSubset), "data.trainSubset must be one of " + TRAIN_SUBSETS + ", got '"
                    + trainSubset + "'");
            simulateOverrides = List.copyOf(simulateOverrides);
        }
    }

    /**
     * Validation cadence and mmseg's test mode: "whole" (one forward per image at its own size) or "slide"
     * (windows of {@code crop} = [h, w] every {@code stride} = [h, w] pixels, their logits averaged where they
     * overlap: {@link SlidingWindow}). crop and stride are read in both modes, so a config can switch modes
     * with one --set.
     */
    public record Eval(int every, String mode, List<Integer> crop, List<Integer> stride) {
        public Eval {
            require(every >= 1, "eval.every must be >= 1, got " + every);
            require(EVAL_MODES.contains(mode), "eval.mode must be one of " + EVAL_MODES + ", got '" + mode + "'");
            require(crop.size() == 2 && crop.get(0) >= 1 && crop.get(1) >= 1,
                    "eval.crop must be [height, width] >= 1, got " + crop);
            // A stride above the crop can leave pixels that no window covers (mmseg asserts on them at test time).
            require(stride.size() == 2 && stride.get(0) >= 1 && stride.get(1) >= 1 && stride.get(0) <= crop.get(0)
                    && stride.get(1) <= crop.get(1), "eval.stride must be [height, width] in [1, eval.crop] (" + crop
                    + ") so that the windows cover every pixel, got " + stride);
            crop = List.copyOf(crop);
            stride = List.copyOf(stride);
        }

        public boolean slide() {
            return mode.equals("slide");
        }
    }

    /** Seed, backend, logging and checkpoint cadence. */
    public record Run(long seed, String backend, int threads, int logEvery, int checkpointEvery) {
        public Run {
            require(logEvery >= 1 && checkpointEvery >= 1, "run.logEvery and run.checkpointEvery must be >= 1");
            require(threads >= 0, "run.threads must be >= 0 (0: all cores)");
        }
    }

    /** The augmentation file's segmentation section with this run's scale, crop and input channels. */
    public AugmentConfig.Segmentation augmentation() {
        AugmentConfig.Segmentation s = AugmentConfig.load(Path.of(data.augment()), List.of()).segmentation();
        if (s.ignoreIndex() != SegmentationModel.IGNORE_INDEX) {
            throw new IllegalArgumentException(data.augment() + ": segmentation.ignoreIndex must be "
                    + SegmentationModel.IGNORE_INDEX + " (the loss's ignore label), got " + s.ignoreIndex());
        }
        return new AugmentConfig.Segmentation(data.scale(), s.ratio(), List.of(data.crop(), data.crop()),
                s.catMaxRatio(), s.flipProbability(), s.brightnessDelta(), s.contrast(), s.mean(), s.std(),
                model.inChannels(), s.ignoreIndex());
    }

    public static FinetuneConfig load(Path file, List<String> overrides) {
        return YamlConfig.readNamed(file, FinetuneConfig.class, overrides);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
