package org.densecl.seg;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Param;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The whole FCN loss (backbone, both heads with dropout, bilinear resizes, ignore-index cross-entropy, the
 * 0.4 auxiliary weight) against central differences of the total loss, in F64 on the reference backend,
 * through {@link SegmentationModel#lossAndGradients} with a fixed step (so the dropout masks are the same
 * in every evaluation). Elements are sampled: two per tensor from the stem, each stage (dilated 3x3s,
 * projections, BN) and every head tensor.
 *
 * <p>The model is an R50-D8 layout with one bottleneck per stage at width 4, 1 input channel, 2 images of
 * 36x28 (not multiples of 8: C4/C5 are 5x4, and the logits are resized by 7.2 and 7), heads of 8 and 4
 * channels, 3 classes, a fifth of the pixels ignored, dropout 0.3. Head affine parameters and conv_seg are
 * drawn at random (see FcnHeadGradCheckTest) so that the backbone's gradients are not scaled down by
 * conv_seg's N(0, 0.01) init.
 *
 * <p>Tolerance: the loss is ~1.5 and h = 1e-6, so the difference's rounding error is ~1e-16 * 1.5 / 1e-6 ~
 * 2e-10 (times a few for the sums in the loss) and its truncation error h^2 * L''' ~ 1e-12; atol 1e-8 +
 * rtol 1e-5 leaves a wide margin while a wrong term (a missing aux weight, a wrong denominator, a resize
 * transposed) moves gradients by percent. A ReLU flip within h is a ~1e-6 event per unit; seeds are fixed.
 */
class SegmentationGradCheckTest {
    private static final double H = 1e-6, ATOL = 1e-8, RTOL = 1e-5;
    private final Backend be = new RefBackend();

    @AfterEach
    void close() {
        be.close();
    }

    /** The tiny R50-D8 used by the seg tests: blocks (1, 1, 1, 1), width 4, grayscale, heads of 8 and 4 channels. */
    static SegmentationConfig tinyConfig(float dropout) {
        ResNetConfig r = SegmentationConfig.fcnR50D8().backbone().withBlocks(1, 1, 1, 1).withWidthMultiplier(1.0 / 16)
                .withInChannels(1);
        return SegmentationConfig.fcnR50D8().withBackbone(r)
                .withHeads(FcnHeadConfig.decode(8), FcnHeadConfig.auxiliary(4)).withDropout(dropout);
    }

    @Test
    void totalLossGradientMatchesFiniteDifferences() {
        int n = 2, h = 36, w = 28, classes = 3;
        long seed = 17, step = 5;
        SegmentationModel m = new SegmentationModel(be, tinyConfig(0.3f), DType.F64, n, h, w, classes);
        m.initialize(seed);
        FcnHeadGradCheckTest.randomizeAffine(m.headParameters(), seed);
        Tensor images = be.allocate(DType.F64, m.inputShape());
        Rand.normal(images, seed + 1, 1.0);
        Tensor labels = be.allocate(DType.I32, m.labelShape());
        Rand.labels(labels, seed + 2, classes, SegmentationModel.IGNORE_INDEX, 0.2);

        List<Param> checked = new ArrayList<>();
        for (String name : List.of("conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer2.0.conv2.weight",
                "layer2.0.downsample.0.weight", "layer3.0.conv2.weight", "layer3.0.downsample.1.weight",
                "layer4.0.conv2.weight", "layer4.0.bn3.bias")) {
            checked.add(m.backbone().parameters().get(name));
        }
        checked.addAll(m.headParameters().trainable());

        m.lossAndGradients(images, labels, step);
        SplittableRandom rng = new SplittableRandom(seed + 3);
        List<Param> params = new ArrayList<>();
        List<Long> index = new ArrayList<>();
        List<Double> analytic = new ArrayList<>();
        for (Param p : checked) {
            for (int j = 0; j < 2; j++) {
                long i = rng.nextLong(p.numel());
                params.add(p);
                index.add(i);
                analytic.add(p.grad().get(i));
            }
        }
        StringBuilder bad = new StringBuilder();
        double maxAbs = 0, minAbsBackbone = Double.MAX_VALUE;
        for (int t = 0; t < params.size(); t++) {
            Param p = params.get(t);
            long i = index.get(t);
            double x0 = p.value().get(i);
            p.value().set(i, x0 + H);
            double lp = m.lossAndGradients(images, labels, step).total();
            p.value().set(i, x0 - H);
            double lm = m.lossAndGradients(images, labels, step).total();
            p.value().set(i, x0);
            double numeric = (lp - lm) / (2 * H), a = analytic.get(t);
            maxAbs = Math.max(maxAbs, Math.abs(a));
            if (!p.name().contains("_head.")) {
                minAbsBackbone = Math.min(minAbsBackbone, Math.abs(numeric));
            }
            if (!(Math.abs(a - numeric) <= ATOL + RTOL * Math.abs(numeric))) {
                bad.append(String.format("%n  %s %s [%d]: analytic %.9g numeric %.9g", p.name(), p.shape(), i, a,
                        numeric));
            }
        }
        assertTrue(bad.isEmpty(), "FCN loss gradient mismatch (" + m.inputShape() + ", 3 classes):" + bad);
        assertTrue(maxAbs > 1e-3, "every checked gradient is ~0 (" + maxAbs + "): the check would prove nothing");
        System.out.printf("FCN grad check: %d elements, max |grad| %.3g, smallest backbone |grad| %.3g%n",
                params.size(), maxAbs, minAbsBackbone);
    }
}
