package org.densecl.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.nn.Act;
import org.densecl.nn.Param;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.GradCheck;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Whole-network gradient checks: tiny-width ResNets in float64 on the reference backend, every backward
 * (blocks, projections, dilation, stem, pool, fc) against central differences of L = sum(dy * output).
 *
 * <p>A full check of every weight would need two forwards per element; instead every trainable tensor
 * contributes a short window of consecutive elements at a seeded random offset (a {@link Tensor#slice}
 * view of the parameter and of its gradient), plus a window of the input image. GradCheck pre-fills each
 * gradient window with random values, so the check also proves that backward ACCUMULATES. The backward
 * closure zeroes only the activation gradients (as a trainer does each step) and never the parameter
 * gradients, and the image gradient lives outside the activation slab.
 *
 * <p>Tolerances are GradCheck's defaults (atol 1e-6, rtol 1e-5; see its comment). The only risk beyond
 * its analysis is a ReLU or max-pool kink within h = 1e-6 of a unit, which moves one unit's share of a
 * gradient; the seeds are fixed and the checks pass with them.
 */
class ResNetGradCheckTest {
    private static final int WINDOW = 2;       // elements checked per parameter tensor
    private static final int IMAGE_WINDOW = 6; // elements checked of the input image
    private final Backend be = new RefBackend();

    @AfterEach
    void close() {
        be.close();
    }

    /** ResNet-50-style: one Bottleneck per stage (all four with projections), fc, 1 channel, 40x40. */
    @Test
    void bottleneckNetworkWithClassifier() {
        ResNetConfig cfg = ResNetConfig.resnet(50).withBlocks(1, 1, 1, 1).withWidthMultiplier(1.0 / 16)
                .withInChannels(1).withClassifier(3);
        ResNet net = ResNet.create(be, cfg, DType.F64, 2, 40, 40);
        net.initialize(11);
        check("resnet50(1,1,1,1) width 4 -> logits", net, net.logits(), 101);
    }

    /**
     * ResNet-18-style at output stride 8: BasicBlocks with identity shortcuts, layer3/layer4 dilated
     * (dilations 1,2 and 2,4), no classifier. The upstream gradient enters at C5.
     */
    @Test
    void dilatedBasicNetworkFromC5() {
        ResNet net = dilatedBasic();
        check("resnet18(1,1,2,2)-D8 width 4 -> C5", net, net.c5(), 202);
    }

    /**
     * The same network with the upstream gradient entering at C3 only: layer3 and layer4 run backward
     * with a zero gradient and must leave layer1/layer2 gradients exactly those of sum(dy * C3). Only the
     * stem and layer1/layer2 tensors are sampled (the others' gradients are exactly zero).
     */
    @Test
    void gradientInjectedIntoAnIntermediateStage() {
        ResNet net = dilatedBasic();
        check("resnet18(1,1,2,2)-D8 width 4 -> C3", net, net.stage(1), 303);
    }

    /**
     * The R50-D8 path itself: Bottlenecks with a stride-2 3x3 in layer2, stride-1 projections into the
     * dilated layer3/layer4 and an identity block at dilation 2 in layer3. The gradient enters at C4
     * (layer3's output, the FCN auxiliary head's input); layer4 is not sampled (its gradients are zero).
     */
    @Test
    void dilatedBottleneckNetworkFromC4() {
        ResNetConfig cfg = ResNetConfig.resnet(50).withBlocks(1, 1, 2, 1).withWidthMultiplier(1.0 / 16)
                .withInChannels(1).withOutputStride(8);
        ResNet net = ResNet.create(be, cfg, DType.F64, 2, 32, 32);
        net.initialize(13);
        check("resnet50(1,1,2,1)-D8 width 4 -> C4", net, net.stage(2), 404);
    }

    private ResNet dilatedBasic() {
        ResNetConfig cfg = ResNetConfig.resnet(18).withBlocks(1, 1, 2, 2).withWidthMultiplier(1.0 / 16)
                .withInChannels(1).withOutputStride(8);
        ResNet net = ResNet.create(be, cfg, DType.F64, 2, 40, 40);
        net.initialize(12);
        return net;
    }

    /** Checks sampled parameter windows and an image window for L = sum(dy * out). */
    private void check(String what, ResNet net, Act out, long seed) {
        Tensor x = be.allocate(DType.F64, net.inputShape());  // (N, H, W, Cin)
        Tensor dx = be.allocate(DType.F64, net.inputShape()); // (N, H, W, Cin), outside the activation slab
        Rand.normal(x, seed, 1.0);
        Tensor dy = be.allocate(DType.F64, out.shape());
        Runnable forward = () -> net.forward(x, true);
        Runnable backward = () -> {
            net.activations().zeroGrads();
            be.copy(dy, out.grad());
            net.backward(dx);
        };
        List<GradCheck.Input> inputs = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(seed);
        // Stages after the one the gradient enters get exactly zero gradients: not worth sampling.
        int lastStage = out == net.stage(1) ? 2 : out == net.stage(2) ? 3 : 4;
        for (Param p : net.parameters().trainable()) {
            if (p.name().startsWith("layer") && p.name().charAt(5) - '0' > lastStage) {
                continue;
            }
            inputs.add(window(p.name(), p.value(), p.grad(), WINDOW, r));
        }
        inputs.add(window("image", x, dx, IMAGE_WINDOW, r));
        GradCheck.check(what + " " + net.inputShape(), seed, GradCheck.DEFAULT_ATOL, GradCheck.DEFAULT_RTOL,
                forward, out.value(), dy, backward, inputs.toArray(GradCheck.Input[]::new));
    }

    private static GradCheck.Input window(String name, Tensor x, Tensor dx, int len, SplittableRandom r) {
        int n = (int) Math.min(len, x.numel());
        long off = r.nextLong(x.numel() - n + 1);
        return GradCheck.input(name + "[" + off + ".." + (off + n) + ")", x.slice(off, Shape.of(n)),
                dx.slice(off, Shape.of(n)));
    }
}
