package org.densecl.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.nn.Activations;
import org.densecl.nn.BatchCounter;
import org.densecl.nn.Sgd;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** ResNets run end to end on the reference backend in F32: training, dilation, shared weights, modes. */
class ResNetTrainingTest {
    private final Backend be = new RefBackend();

    @AfterEach
    void close() {
        be.close();
    }

    /**
     * A tiny batch with arbitrary labels must be memorised: 8 random 16x16 images, 4 classes (two images
     * each), SGD with momentum. The loss starts near ln 4 = 1.386 (small random logits) and must fall below
     * 0.01 within 100 steps (it takes 10 with this seed); a wrong sign or a missing gradient anywhere
     * stalls it. The step budget is loose on purpose: this test is about "training works", the gradient
     * checks are about exact values.
     */
    @Test
    void tinyBatchOverfits() {
        ResNetConfig cfg = ResNetConfig.resnet(18).withBlocks(1, 1, 1, 1).withWidth(8).withInChannels(1)
                .withClassifier(4);
        int n = 8;
        ResNet net = ResNet.create(be, cfg, DType.F32, n, 16, 16);
        net.initialize(5);
        Tensor x = be.allocate(DType.F32, net.inputShape()); // (8, 16, 16, 1)
        Rand.normal(x, 6, 1.0);
        Tensor labels = be.allocate(DType.I32, Shape.of(n));
        be.upload(new int[] {2, 0, 3, 1, 1, 3, 0, 2}, labels);
        Tensor probs = be.allocate(DType.F32, Shape.of(n, 4));
        Tensor loss = be.allocate(DType.F32, Shape.of(1));
        Sgd sgd = new Sgd(be, net.parameters(), 0.9f, 1e-4f, true);

        float first = Float.NaN, last = Float.NaN;
        int steps = 0;
        for (; steps < 100; steps++) {
            net.parameters().zeroGrads();
            net.activations().zeroGrads();
            net.forward(x, true);
            be.softmaxCrossEntropyForward(net.logits().value(), labels, -1, false, probs, loss);
            last = (float) loss.get(0);
            if (steps == 0) {
                first = last;
            }
            if (last < 0.01f) {
                break;
            }
            be.softmaxCrossEntropyBackward(probs, labels, -1, false, 1f, net.logits().grad());
            net.backward(null);
            sgd.step(0.05f);
        }
        assertTrue(Math.abs(first - Math.log(4)) < 0.5, "initial loss " + first + " should be near ln 4");
        assertTrue(last < 0.01f, "loss " + first + " -> " + last + " after " + steps + " steps; expected < 0.01");
        BatchCounter c = net.parameters().counters().get(0);
        assertEquals("bn1.num_batches_tracked", c.name());
        assertEquals(steps + 1, c.get(), "one tracked batch per training forward");
    }

    /** Output stride 8 on a real forward and backward: C5 is input/8, C3 = C4 = C5 spatially. */
    @Test
    void dilatedNetworkRunsAtOutputStride8() {
        ResNetConfig cfg = ResNetConfig.resnet(50).withBlocks(1, 1, 2, 2).withWidthMultiplier(1.0 / 16)
                .withInChannels(1).withOutputStride(8);
        ResNet net = ResNet.create(be, cfg, DType.F32, 1, 40, 56);
        net.initialize(1);
        Tensor x = be.allocate(DType.F32, net.inputShape());
        Rand.normal(x, 2, 1.0);
        net.forward(x, true);
        assertEquals(Shape.of(1, 10, 14, 16), net.stage(0).shape(), "C2 at stride 4");
        assertEquals(Shape.of(1, 5, 7, 32), net.stage(1).shape(), "C3 at stride 8");
        assertEquals(Shape.of(1, 5, 7, 64), net.stage(2).shape(), "C4 stays at stride 8");
        assertEquals(Shape.of(1, 5, 7, 128), net.c5().shape(), "C5 = input / 8");
        Rand.normal(net.c5().grad(), 3, 1.0);
        net.backward(null);
        float[] g = new float[(int) net.parameters().get("conv1.weight").numel()];
        be.download(net.parameters().get("conv1.weight").grad(), g);
        double norm = 0;
        for (float v : g) {
            assertTrue(Float.isFinite(v), "conv1.weight gradient must be finite");
            norm += v * v;
        }
        assertTrue(norm > 0, "the gradient reaches the stem through the dilated stages");
    }

    /**
     * A second network bound to the first one's weights (an inference plan for batch 1) computes exactly
     * what the first computes for the same image in evaluation mode; a third one at another input size
     * binds too. Training forwards on the first move the running statistics both see.
     */
    @Test
    void networksShareWeightsAcrossBatchAndInputSizes() {
        ResNetConfig cfg = ResNetConfig.resnet(18).withBlocks(1, 1, 1, 1).withWidth(4).withInChannels(1)
                .withClassifier(3);
        ResNet a = ResNet.create(be, cfg, DType.F32, 2, 24, 24);
        a.initialize(9);
        Tensor x = be.allocate(DType.F32, a.inputShape()); // (2, 24, 24, 1)
        Rand.normal(x, 10, 1.0);
        a.forward(x, true); // moves the running statistics away from (0, 1)
        a.forward(x, false);

        Activations inference = new Activations(DType.F32, true);
        ResNet b = new ResNet(be, cfg, a.parameters(), inference, "", 1, 24, 24);
        inference.allocate(be);
        b.forward(x.slice(0, Shape.of(1, 24, 24, 1)), false);
        float[] la = new float[6], lb = new float[3];
        be.download(a.logits().value(), la);
        be.download(b.logits().value(), lb);
        assertArrayEquals(new float[] {la[0], la[1], la[2]}, lb, 0f, "same weights, same image, same logits");
        assertThrows(IllegalStateException.class, () -> b.logits().grad(), "an inference plan has no gradients");

        Activations big = new Activations(DType.F32, true);
        ResNet c = new ResNet(be, cfg, a.parameters(), big, "", 1, 40, 40);
        big.allocate(be);
        Tensor y = be.allocate(DType.F32, c.inputShape());
        c.forward(y, false);
        assertEquals(Shape.of(1, 2, 2, 32), c.c5().shape());
        assertThrows(IllegalStateException.class, () -> a.backward(null),
                "backward after an evaluation-mode forward is refused");
    }
}
