package org.densecl.model;

import java.util.List;
import org.densecl.nn.FanMode;

/**
 * What a {@link ResNet} is made of: torchvision's ResNet-18/34/50/101/152 plus the options this project
 * needs. Build one with {@link #resnet(int)} and the {@code with*} methods.
 *
 * @param bottleneck       Bottleneck blocks (expansion 4, stride on the 3x3: "v1.5") or BasicBlocks
 * @param blocks           blocks per stage, layer1..layer4
 * @param inChannels       input image channels: 3 for RGB, 1 for grayscale ultrasound
 * @param width            stem channels and layer1 planes (64 in torchvision); stage i has width * 2^i
 *                         planes. A width multiplier m gives width = round(64 * m)
 * @param outputStride     32 (classification), 16 (layer4 dilated) or 8 (layer3 and layer4 dilated, the
 *                         "D8" backbone of FCN R50-D8). torchvision's replace_stride_with_dilation is
 *                         [false, false, true] for 16 and [false, true, true] for 8
 * @param numClasses       0 for a backbone (no avgpool or fc), else the fc's output size
 * @param zeroInitResidual gamma = 0 for each block's last BN, so every block starts as the identity
 * @param fanMode          Kaiming's fan. Default FAN_IN: the network trained from scratch here is the DenseCL
 *                         backbone, and OpenSelfSup initialises it with fan_in (spec section 1.1); pick
 *                         FAN_OUT to match torchvision's classifier or mmseg's random-init baseline
 * @param bnMomentum       BN running-statistics momentum (PyTorch 0.1)
 * @param bnEps            BN epsilon (PyTorch 1e-5)
 */
public record ResNetConfig(boolean bottleneck, List<Integer> blocks, int inChannels, int width, int outputStride,
                           int numClasses, boolean zeroInitResidual, FanMode fanMode, float bnMomentum,
                           float bnEps) {

    public ResNetConfig {
        blocks = List.copyOf(blocks);
        if (blocks.size() != 4 || blocks.stream().anyMatch(b -> b < 1)) {
            throw new IllegalArgumentException("ResNet: blocks must be 4 positive counts (layer1..layer4), got "
                    + blocks);
        }
        if (inChannels < 1 || width < 1 || numClasses < 0) {
            throw new IllegalArgumentException("ResNet: inChannels " + inChannels + ", width " + width
                    + " and numClasses " + numClasses + " must be positive (numClasses may be 0)");
        }
        if (outputStride != 8 && outputStride != 16 && outputStride != 32) {
            throw new IllegalArgumentException("ResNet: outputStride must be 8, 16 or 32, not " + outputStride);
        }
        if (fanMode == null) {
            throw new IllegalArgumentException("ResNet: fanMode is required (FAN_IN or FAN_OUT)");
        }
    }

    /** torchvision's architecture for depth 18, 34, 50, 101 or 152: RGB, width 64, stride 32, no fc. */
    public static ResNetConfig resnet(int depth) {
        List<Integer> blocks = switch (depth) {
            case 18 -> List.of(2, 2, 2, 2);
            case 34, 50 -> List.of(3, 4, 6, 3);
            case 101 -> List.of(3, 4, 23, 3);
            case 152 -> List.of(3, 8, 36, 3);
            default -> throw new IllegalArgumentException("ResNet: depth must be 18, 34, 50, 101 or 152, not "
                    + depth);
        };
        return new ResNetConfig(depth >= 50, blocks, 3, 64, 32, 0, false, FanMode.FAN_IN, 0.1f, 1e-5f);
    }

    public ResNetConfig withBlocks(int l1, int l2, int l3, int l4) {
        return new ResNetConfig(bottleneck, List.of(l1, l2, l3, l4), inChannels, width, outputStride, numClasses,
                zeroInitResidual, fanMode, bnMomentum, bnEps);
    }

    public ResNetConfig withInChannels(int c) {
        return new ResNetConfig(bottleneck, blocks, c, width, outputStride, numClasses, zeroInitResidual, fanMode,
                bnMomentum, bnEps);
    }

    public ResNetConfig withWidth(int w) {
        return new ResNetConfig(bottleneck, blocks, inChannels, w, outputStride, numClasses, zeroInitResidual,
                fanMode, bnMomentum, bnEps);
    }

    /** width = max(1, round(64 * m)): 1/16 gives 4, 0.25 gives 16. */
    public ResNetConfig withWidthMultiplier(double m) {
        if (!(m > 0)) {
            throw new IllegalArgumentException("ResNet: width multiplier must be positive, not " + m);
        }
        return withWidth((int) Math.max(1, Math.round(64 * m)));
    }

    public ResNetConfig withOutputStride(int os) {
        return new ResNetConfig(bottleneck, blocks, inChannels, width, os, numClasses, zeroInitResidual, fanMode,
                bnMomentum, bnEps);
    }

    public ResNetConfig withClassifier(int classes) {
        return new ResNetConfig(bottleneck, blocks, inChannels, width, outputStride, classes, zeroInitResidual,
                fanMode, bnMomentum, bnEps);
    }

    public ResNetConfig withZeroInitResidual(boolean z) {
        return new ResNetConfig(bottleneck, blocks, inChannels, width, outputStride, numClasses, z, fanMode,
                bnMomentum, bnEps);
    }

    public ResNetConfig withFanMode(FanMode mode) {
        return new ResNetConfig(bottleneck, blocks, inChannels, width, outputStride, numClasses, zeroInitResidual,
                mode, bnMomentum, bnEps);
    }

    public ResNetConfig withBatchNorm(float momentum, float eps) {
        return new ResNetConfig(bottleneck, blocks, inChannels, width, outputStride, numClasses, zeroInitResidual,
                fanMode, momentum, eps);
    }

    /** 4 for Bottleneck, 1 for BasicBlock. */
    public int expansion() {
        return bottleneck ? 4 : 1;
    }

    /** Planes of stage {@code s} (0 = layer1): width * 2^s. */
    public int planes(int s) {
        return width << s;
    }

    /** Output channels of stage {@code s}: 256/512/1024/2048 for ResNet-50. */
    public int stageChannels(int s) {
        return planes(s) * expansion();
    }

    /** True if stage {@code s} (1..3 = layer2..layer4) trades its stride for dilation. */
    public boolean dilated(int s) {
        return switch (outputStride) {
            case 8 -> s >= 2;
            case 16 -> s >= 3;
            default -> false;
        };
    }
}
