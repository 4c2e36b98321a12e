package org.densecl.data.augment;

import java.nio.file.Path;
import java.util.List;
import org.densecl.data.Range;
import org.densecl.data.YamlConfig;

/**
 * Augmentation parameters, one record per pipeline, mirroring {@code configs/augment.yaml} (which
 * documents every key and holds the defaults).
 */
public record AugmentConfig(Pretrain pretrain, Segmentation segmentation) {
    public static final String DEFAULT_PATH = "configs/augment.yaml";

    /** DenseCL / MoCo v2 pretraining views. */
    public record Pretrain(int size, Range cropScale, Range cropRatio, double jitterProbability, double brightness,
                           double contrast, double blurProbability, Range blurSigma, double flipProbability,
                           double mean, double std, int channels) {
        public Pretrain {
            require(size >= 8, "pretrain.size must be >= 8, got " + size);
            cropScale.require("pretrain.cropScale", 1e-4, 1);
            require(cropRatio.lo() > 0, "pretrain.cropRatio must be positive");
            require(brightness >= 0 && brightness < 1 && contrast >= 0 && contrast < 1, "pretrain brightness/contrast must be in [0, 1)");
            blurSigma.require("pretrain.blurSigma", 1e-3, 100);
            common("pretrain", std, channels, jitterProbability, blurProbability, flipProbability);
        }
    }

    /** mmsegmentation-style joint image and mask pipeline. */
    public record Segmentation(List<Integer> scale, Range ratio, List<Integer> crop, double catMaxRatio,
                               double flipProbability, double brightnessDelta, Range contrast, double mean, double std,
                               int channels, int ignoreIndex) {
        public Segmentation {
            require(scale.size() == 2 && scale.get(0) > 0 && scale.get(1) > 0, "segmentation.scale must be [long, short] > 0");
            require(crop.size() == 2 && crop.get(0) > 0 && crop.get(1) > 0, "segmentation.crop must be [height, width] > 0");
            require(ratio.lo() > 0, "segmentation.ratio must be positive");
            require(catMaxRatio > 0 && catMaxRatio <= 1, "segmentation.catMaxRatio must be in (0, 1]");
            require(ignoreIndex >= 0 && ignoreIndex <= 255, "segmentation.ignoreIndex must be in [0, 255]");
            require(contrast.lo() >= 0, "segmentation.contrast must be >= 0");
            common("segmentation", std, channels, flipProbability, 0, 0);
        }
    }

    public static AugmentConfig load(Path file, List<String> overrides) {
        return YamlConfig.readNamed(file, AugmentConfig.class, overrides);
    }

    private static void common(String section, double std, int channels, double... probabilities) {
        require(std > 0, section + ".std must be > 0");
        require(channels == 1 || channels == 3, section + ".channels must be 1 or 3, got " + channels);
        for (double p : probabilities) {
            require(p >= 0 && p <= 1, section + ": probabilities must be in [0, 1], got " + p);
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
