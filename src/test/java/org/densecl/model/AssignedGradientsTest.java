package org.densecl.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.cpu.CpuBackend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.nn.Act;
import org.densecl.nn.Param;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.Test;

/**
 * The gradients that {@code Activations.zeroGrads()} leaves to their first writer (inside blocks, the
 * outputs of all but a stage's last block, the stem's conv and pool outputs) must really be written
 * whole before anything reads them. Each case runs a training step's forward and backward twice on the
 * same input and upstream gradient, the second time with every assigned gradient filled with NaN first:
 * any element read before it is written would carry the NaN into the parameter gradients. The two runs'
 * parameter gradients must agree bit for bit, on the cpu backend (which assigns in its kernels) and on
 * the reference (the Backend defaults: zero, then accumulate).
 */
class AssignedGradientsTest {

    @Test
    void bottleneckNetworkOnCpu() {
        try (Backend be = new CpuBackend(2, "vector")) {
            // Projections in every stage, an identity block in layer1 and layer3, 3x3 stride 2 in layer2.
            check(be, ResNetConfig.resnet(50).withBlocks(2, 1, 2, 1).withWidthMultiplier(1.0 / 8).withClassifier(5),
                    2, 48, 40);
        }
    }

    @Test
    void basicNetworkOnCpu() {
        // The quick recipe's blocks: BasicBlocks with identity shortcuts, and no classifier (C5 gradient).
        try (Backend be = new CpuBackend(2, "vector")) {
            check(be, ResNetConfig.resnet(18).withBlocks(2, 2, 1, 1).withWidthMultiplier(1.0 / 4), 3, 40, 36);
        }
    }

    @Test
    void dilatedBottleneckNetworkOnReference() {
        try (Backend be = new RefBackend()) {
            ResNetConfig cfg = ResNetConfig.resnet(50).withBlocks(2, 1, 2, 1).withWidthMultiplier(1.0 / 16)
                    .withOutputStride(8);
            check(be, cfg, 2, 32, 32);
        }
    }

    private static void check(Backend be, ResNetConfig cfg, int n, int h, int w) {
        ResNet net = ResNet.create(be, cfg, DType.F32, n, h, w);
        net.initialize(21);
        Tensor x = be.allocate(net.inputShape());
        Rand.uniform(x, 5, -1, 1);
        Act top = cfg.numClasses() > 0 ? net.logits() : net.c5();
        Tensor upstream = be.allocate(top.shape());
        Rand.uniform(upstream, 6, -1, 1);

        List<Act> assigned = net.activations().assignedGradients();
        assertTrue(assigned.contains(net.block(0, 0).output()), "layer1.0's output is assigned by layer1.1");
        assertTrue(!assigned.contains(net.c5()) && !assigned.contains(net.stage(1)),
                "stage outputs stay zeroed: a loss may add into them");
        List<float[]> clean = step(be, net, x, top, upstream);
        for (Act a : assigned) {
            be.fill(a.grad(), Float.NaN);
        }
        List<float[]> poisoned = step(be, net, x, top, upstream);
        List<Param> params = net.parameters().trainable();
        assertEquals(clean.size(), poisoned.size());
        for (int i = 0; i < clean.size(); i++) {
            float[] c = clean.get(i), p = poisoned.get(i);
            for (int j = 0; j < c.length; j++) {
                if (Float.floatToRawIntBits(c[j]) != Float.floatToRawIntBits(p[j])) {
                    throw new AssertionError(cfg + ": gradient of " + params.get(i).name() + "[" + j + "] is "
                            + p[j] + " with the assigned activation gradients poisoned, " + c[j] + " without: a"
                            + " gradient was read before its first writer set it");
                }
            }
        }
    }

    // One training step's gradients: zero, forward, upstream gradient, backward; every trainable
    // parameter's gradient, in declaration order.
    private static List<float[]> step(Backend be, ResNet net, Tensor x, Act top, Tensor upstream) {
        net.parameters().zeroGrads();
        net.activations().zeroGrads();
        net.forward(x, true);
        be.copy(upstream, top.grad());
        net.backward(null);
        return net.parameters().trainable().stream().map(p -> {
            float[] g = new float[(int) p.grad().numel()];
            be.download(p.grad(), g);
            return g;
        }).toList();
    }
}
