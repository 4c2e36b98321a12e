package org.densecl.seg;

import org.densecl.model.ResNetConfig;
import org.densecl.nn.FanMode;

/**
 * What a {@link SegmentationModel} is made of: mmsegmentation's FCN R50-D8 (spec 4.2, 4.3) and the knobs
 * that make CPU-sized variants of it. Start from {@link #fcnR50D8()} and the {@code with*} methods.
 *
 * @param backbone     the ResNet without classifier: C4 (layer3) feeds the auxiliary head, C5 (layer4) the
 *                     decode head; FCN R50-D8 uses output stride 8
 * @param decodeHead   the FCNHead on C5
 * @param auxHead      the FCNHead on C4
 * @param auxWeight    the auxiliary loss weight (0.4): total = CE_decode + auxWeight * CE_aux
 * @param alignCorners the bilinear resize of the logits to the label size (false for VOC, true for the
 *                     Cityscapes 769 config)
 */
public record SegmentationConfig(ResNetConfig backbone, FcnHeadConfig decodeHead, FcnHeadConfig auxHead,
                                 float auxWeight, boolean alignCorners) {

    public SegmentationConfig {
        if (backbone == null || decodeHead == null || auxHead == null) {
            throw new IllegalArgumentException("SegmentationConfig: backbone, decodeHead and auxHead are required");
        }
        if (backbone.numClasses() != 0) {
            throw new IllegalArgumentException("SegmentationConfig: the backbone must have no classifier"
                    + " (numClasses 0), not " + backbone.numClasses());
        }
        if (!(auxWeight >= 0)) {
            throw new IllegalArgumentException("SegmentationConfig: auxWeight must be >= 0, not " + auxWeight);
        }
    }

    /**
     * FCN R50-D8: ResNet-50 (7x7 stem, torchvision layout) at output stride 8, decode head 2048 -> 512 (2 convs,
     * concat_input), auxiliary head 1024 -> 256, dropout 0.1, aux weight 0.4, align_corners false. The
     * backbone's random init is Kaiming fan_out, mmseg's ResNet default (the baseline without pretraining).
     */
    public static SegmentationConfig fcnR50D8() {
        ResNetConfig r50 = ResNetConfig.resnet(50).withOutputStride(8).withFanMode(FanMode.FAN_OUT);
        return new SegmentationConfig(r50, FcnHeadConfig.decode(512), FcnHeadConfig.auxiliary(256), 0.4f, false);
    }

    /**
     * Scales the backbone width (ResNetConfig.withWidthMultiplier) and both heads' channels with it:
     * round(512 m) and round(256 m), at least 1. 1/16 gives width 4 and heads of 32 and 16 channels.
     */
    public SegmentationConfig withWidthMultiplier(double m) {
        return new SegmentationConfig(backbone.withWidthMultiplier(m),
                decodeHead.withChannels(scaled(512, m)), auxHead.withChannels(scaled(256, m)), auxWeight,
                alignCorners);
    }

    private static int scaled(int channels, double m) {
        return (int) Math.max(1, Math.round(channels * m));
    }

    public SegmentationConfig withBackbone(ResNetConfig b) {
        return new SegmentationConfig(b, decodeHead, auxHead, auxWeight, alignCorners);
    }

    public SegmentationConfig withHeads(FcnHeadConfig decode, FcnHeadConfig aux) {
        return new SegmentationConfig(backbone, decode, aux, auxWeight, alignCorners);
    }

    /** Both heads' Dropout2d probability. */
    public SegmentationConfig withDropout(float p) {
        return new SegmentationConfig(backbone, decodeHead.withDropout(p), auxHead.withDropout(p), auxWeight,
                alignCorners);
    }

    public SegmentationConfig withAuxWeight(float w) {
        return new SegmentationConfig(backbone, decodeHead, auxHead, w, alignCorners);
    }

    public SegmentationConfig withAlignCorners(boolean a) {
        return new SegmentationConfig(backbone, decodeHead, auxHead, auxWeight, a);
    }
}
