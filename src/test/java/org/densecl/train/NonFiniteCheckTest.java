package org.densecl.train;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.Backend;
import org.densecl.backend.cpu.CpuBackend;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.LrSchedule;
import org.densecl.nn.Sgd;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The divergence check names the step, the tensor and the count, and stops training before the update. */
class NonFiniteCheckTest {
    private static final ResNetConfig CFG = ResNetConfig.resnet(18).withBlocks(1, 1, 1, 1).withWidth(4)
            .withInChannels(1).withClassifier(3);
    private final Backend be = new CpuBackend(2, "vector");

    @AfterEach
    void close() {
        be.close();
    }

    @Test
    void namesTheTensorClosestToTheLossAndCountsTheRest() {
        ResNet net = ResNet.create(be, CFG, DType.F32, 1, 16, 16);
        var params = net.parameters();
        Tensor loss = be.allocate(Shape.of(1));
        assertDoesNotThrow(() -> NonFiniteCheck.afterBackward(be, 0, loss, params));
        Tensor g = params.get("layer3.0.conv2.weight").grad(); // (16, 3, 3, 16) KRSC
        g.setFloat(0, Float.NaN);
        g.setFloat(g.numel() - 1, Float.POSITIVE_INFINITY);
        g.setFloat(77, Float.NEGATIVE_INFINITY);
        params.get("bn1.weight").grad().setFloat(2, Float.NaN); // further from the loss
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> NonFiniteCheck.afterBackward(be, 12, loss, params));
        assertEquals("step 12: non-finite gradient in layer3.0.conv2.weight (3 of " + g.numel()
                + " values; 1 more tensor affected); lower the learning rate or check the input", e.getMessage());

        loss.setFloat(0, Float.NaN);
        e = assertThrows(IllegalStateException.class, () -> NonFiniteCheck.afterBackward(be, 4, loss, params));
        assertEquals("step 4: non-finite loss (1 of 1 values); lower the learning rate or check the input",
                e.getMessage());
    }

    /** A NaN in the input reaches every gradient: the trainer stops at that step and does not update. */
    @Test
    void trainerStopsAtTheBadStep() {
        ResNet net = ResNet.create(be, CFG, DType.F32, 2, 16, 16);
        net.initialize(1);
        Sgd sgd = new Sgd(be, net.parameters(), 0.9f, 0f, true);
        ClassifierTrainer t = new ClassifierTrainer(be, net, sgd, LrSchedule.constant(0.01), 5, (seed, x, y) -> {
            Rand.normal(x, seed, 1.0);
            Rand.labels(y, seed, 3, -1, 0);
            if (seed == org.densecl.data.Seeds.mix(5, 2)) {
                x.setFloat(100, Float.NaN); // step 2's batch is corrupt
            }
        });
        t.step();
        t.step();
        float[] before = new float[(int) net.parameters().get("fc.weight").numel()];
        be.download(net.parameters().get("fc.weight").value(), before);
        IllegalStateException e = assertThrows(IllegalStateException.class, t::step);
        assertTrue(e.getMessage().startsWith("step 2: non-finite "), e.getMessage());
        assertEquals(2, t.stepsDone(), "the failed step is not counted");
        float[] after = new float[before.length];
        be.download(net.parameters().get("fc.weight").value(), after);
        assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(after), "no update after the failure");
    }
}
