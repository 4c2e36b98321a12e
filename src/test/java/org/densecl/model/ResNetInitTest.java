package org.densecl.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.nn.FanMode;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Initialisation: Kaiming statistics for both fan modes, BN constants, zero-init residual, seeding. */
class ResNetInitTest {
    private final Backend be = new RefBackend();

    @AfterEach
    void close() {
        be.close();
    }

    /** ResNet-50 at width 16 (a quarter), 1 image of 32x32: 1.5 M parameters, tiny activations. */
    private ResNet net(ResNetConfig cfg, long seed) {
        ResNet net = ResNet.create(be, cfg, DType.F32, 1, 32, 32);
        net.initialize(seed);
        return net;
    }

    private static final ResNetConfig QUARTER = ResNetConfig.resnet(50).withWidth(16).withClassifier(10);

    private float[] values(Parameters p, String name) {
        Param q = p.get(name);
        float[] v = new float[(int) q.numel()];
        be.download(q.value(), v);
        return v;
    }

    /**
     * Sample mean and standard deviation against N(0, 2/fan). With n samples the std estimate's relative
     * standard error is 1/sqrt(2n) (0.9% for the 6272-element layer3.0.conv3 weight), so 5% is over five
     * standard errors; fan_in and fan_out differ by 2x or more for the chosen tensors, far outside it.
     */
    @Test
    void kaimingNormalMatchesTheChosenFan() {
        for (FanMode mode : FanMode.values()) {
            Parameters p = net(QUARTER.withFanMode(mode), 1).parameters();
            // (K, R, S, C): fan_in = R*S*C, fan_out = K*R*S.
            expectNormal(p, "layer3.0.conv3.weight", mode == FanMode.FAN_IN ? 64 : 256);     // (256, 1, 1, 64)
            expectNormal(p, "conv1.weight", mode == FanMode.FAN_IN ? 7 * 7 * 3 : 16 * 7 * 7); // (16, 7, 7, 3)
            expectNormal(p, "layer4.1.conv2.weight", 9 * 128);                               // (128, 3, 3, 128)
        }
        assertEquals(FanMode.FAN_IN, ResNetConfig.resnet(50).fanMode(), "default: DenseCL's fan_in");
    }

    private void expectNormal(Parameters p, String name, int fan) {
        float[] v = values(p, name);
        double mean = Arrays.stream(toDouble(v)).average().orElseThrow();
        double var = Arrays.stream(toDouble(v)).map(a -> (a - mean) * (a - mean)).sum() / v.length;
        double want = Math.sqrt(2.0 / fan);
        assertEquals(want, Math.sqrt(var), 0.05 * want, name + ": std with fan " + fan + " (" + v.length + " values)");
        assertEquals(0, mean, 5 * want / Math.sqrt(v.length), name + ": mean");
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    @Test
    void batchNormConstantsAndZeroInitResidual() {
        Parameters p = net(QUARTER, 2).parameters();
        assertTrue(allEqual(values(p, "layer2.1.bn3.weight"), 1f), "gamma 1 without zero-init");
        assertTrue(allEqual(values(p, "layer2.1.bn3.bias"), 0f), "beta 0");
        assertTrue(allEqual(values(p, "layer2.1.bn3.running_mean"), 0f), "running mean 0");
        assertTrue(allEqual(values(p, "layer2.1.bn3.running_var"), 1f), "running var 1");

        Parameters z = net(QUARTER.withZeroInitResidual(true), 2).parameters();
        assertTrue(allEqual(values(z, "layer2.1.bn3.weight"), 0f), "zero-init: each Bottleneck's last gamma 0");
        assertTrue(allEqual(values(z, "layer2.1.bn2.weight"), 1f), "other gammas stay 1");
        assertTrue(allEqual(values(z, "layer2.0.downsample.1.weight"), 1f), "the projection's gamma stays 1");
        Parameters basic = net(ResNetConfig.resnet(18).withWidth(8).withZeroInitResidual(true), 2).parameters();
        assertTrue(allEqual(values(basic, "layer3.1.bn2.weight"), 0f), "zero-init: each BasicBlock's bn2");
        assertTrue(allEqual(values(basic, "layer3.1.bn1.weight"), 1f));
    }

    private static boolean allEqual(float[] v, float x) {
        for (float a : v) {
            if (a != x) {
                return false;
            }
        }
        return v.length > 0;
    }

    /** PyTorch's nn.Linear default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias; in = 2048/4 = 512. */
    @Test
    void classifierKeepsPyTorchsLinearDefault() {
        Parameters p = net(QUARTER, 3).parameters();
        double bound = 1 / Math.sqrt(512);
        float[] w = values(p, "fc.weight");
        double max = 0;
        for (float v : w) {
            assertTrue(Math.abs(v) <= bound, "fc.weight within the bound " + bound + ", got " + v);
            max = Math.max(max, Math.abs(v));
        }
        assertTrue(max > 0.99 * bound, "5120 uniform draws reach the bound's last 1%: max " + max);
        for (float v : values(p, "fc.bias")) {
            assertTrue(Math.abs(v) <= bound);
        }
    }

    @Test
    void seededAndReproducible() {
        Parameters a = net(QUARTER, 42).parameters(), b = net(QUARTER, 42).parameters();
        for (Param q : a.all()) {
            assertArrayEquals(values(a, q.name()), values(b, q.name()), q.name() + ": same seed, same values");
        }
        Parameters c = net(QUARTER, 43).parameters();
        assertFalse(Arrays.equals(values(a, "layer1.0.conv2.weight"), values(c, "layer1.0.conv2.weight")),
                "another seed, other weights");
        Parameters noFc = net(QUARTER.withClassifier(0), 42).parameters();
        assertArrayEquals(values(a, "layer4.2.conv3.weight"), values(noFc, "layer4.2.conv3.weight"),
                "a tensor's values do not depend on which other tensors exist");
        assertFalse(Arrays.equals(values(a, "layer1.0.conv1.weight"), values(a, "layer1.1.conv1.weight")),
                "each tensor has its own stream");
    }
}
