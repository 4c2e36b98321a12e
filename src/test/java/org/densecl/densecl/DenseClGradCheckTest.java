package org.densecl.densecl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
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
 * The whole DenseCL loss (global + dense InfoNCE, L2 norms, both neck heads, the backbone) against central
 * differences of the total loss, in F64 on the reference backend, through {@link DenseClModel#lossAndGradients}
 * (no momentum update, queues fixed, so the loss is a function of the query parameters alone).
 *
 * <p>Tolerance: the loss is O(5) and h = 1e-6, so the difference's rounding error is ~1e-16 * 5 / 1e-6 =
 * 5e-10 and its truncation error h^2 * L''' ~ 1e-11; atol 1e-7 + rtol 1e-5 leaves a wide margin while a
 * dropped term (the dense gradient, a missing 1/S2 in the avgpool, a wrong norm backward) moves gradients by
 * far more. The argmax matching is piecewise constant; with random features a flip within h is a ~1e-6 event
 * and the seeds are fixed. BN running statistics change between forwards but train-mode BN never reads them.
 */
class DenseClGradCheckTest {
    private static final double H = 1e-6;
    private final Backend be = new RefBackend();

    @AfterEach
    void close() {
        be.close();
    }

    static ResNetConfig tinyConfig() {
        return ResNetConfig.resnet(50).withBlocks(1, 1, 1, 1).withWidthMultiplier(1.0 / 16).withInChannels(1);
    }

    @Test
    void totalLossGradientMatchesFiniteDifferences() {
        check(0.5f, 7, 3, 1, false);
    }

    @Test
    void mocoV2GradientMatchesFiniteDifferences() {
        check(0f, 8, 3, 1, false);
    }

    /** Shuffle-BN groups: 2 query instances on one weight registry, their gradients summed. */
    @Test
    void groupedBatchNormGradientMatchesFiniteDifferences() {
        check(0.5f, 9, 6, 2, false);
    }

    /** The global head with a BN between mlp.0 and its ReLU (the quick recipe's neck). */
    @Test
    void neckBatchNormGradientMatchesFiniteDifferences() {
        check(0.5f, 10, 6, 2, true);
    }

    private void check(float lambda, long seed, int n, int groups, boolean neckBatchNorm) {
        // N / groups = 3: with N = 2 train-mode BN maps every channel to +-1, the two images' features mirror each
        // other, and a ReLU layer can die for one image (z = 0 exactly, where the norm's eps path applies).
        int size = 64; // C5 is 2x2: S2 = 4 locations to match
        DenseClOptions opt = new DenseClOptions(16, 8, 18, 0.2f, lambda, 1f, 0.9f, 1e-4f, groups, neckBatchNorm);
        DenseClModel m = new DenseClModel(be, tinyConfig(), DType.F64, n, size, size, opt);
        m.initialize(seed);
        Tensor imQ = be.allocate(DType.F64, Shape.of(n, size, size, 1));
        Tensor imK = be.allocate(DType.F64, Shape.of(n, size, size, 1));
        Rand.normal(imQ, seed + 1, 1.0);
        Rand.normal(imK, seed + 2, 1.0);

        List<Param> checked = new ArrayList<>();
        List<String> globalHead = neckBatchNorm
                ? List.of("mlp.0.weight", "mlp.0.bias", "mlp.1.weight", "mlp.1.bias", "mlp.3.weight", "mlp.3.bias")
                : List.of("mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias");
        List<String> names = new ArrayList<>(globalHead);
        names.addAll(List.of("mlp2.0.weight", "mlp2.0.bias", "mlp2.2.weight", "mlp2.2.bias"));
        for (String name : names) {
            checked.add(m.neckQueryParameters().get(name));
        }
        for (String name : List.of("conv1.weight", "bn1.weight", "layer1.0.conv2.weight", "layer4.0.conv3.weight",
                "layer4.0.bn3.bias", "layer4.0.downsample.0.weight")) {
            checked.add(m.backboneQuery().parameters().get(name));
        }
        m.lossAndGradients(imQ, imK);
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int j = 0; j < 8; j++) {
                ss += Math.pow(m.neckQ().z().value().get(i * 8L + j), 2);
            }
            assertTrue(ss > 1e-6, "DenseCL gradient check: raw q of image " + i + " is ~0 (" + ss
                    + "), a degenerate point where L2 normalisation is not differentiable");
        }
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed + 3);
        List<long[]> picks = new ArrayList<>();
        List<Double> analytic = new ArrayList<>();
        for (int p = 0; p < checked.size(); p++) {
            for (int j = 0; j < 2; j++) {
                long i = rng.nextLong(checked.get(p).numel());
                picks.add(new long[] {p, i});
                analytic.add(checked.get(p).grad().get(i));
            }
        }
        StringBuilder bad = new StringBuilder();
        double maxAbs = 0;
        for (int t = 0; t < picks.size(); t++) {
            Param p = checked.get((int) picks.get(t)[0]);
            long i = picks.get(t)[1];
            double x0 = p.value().get(i);
            p.value().set(i, x0 + H);
            double lp = m.lossAndGradients(imQ, imK).total();
            p.value().set(i, x0 - H);
            double lm = m.lossAndGradients(imQ, imK).total();
            p.value().set(i, x0);
            double numeric = (lp - lm) / (2 * H), a = analytic.get(t);
            maxAbs = Math.max(maxAbs, Math.abs(a));
            if (Math.abs(a - numeric) > 1e-7 + 1e-5 * Math.abs(numeric)) {
                bad.append(String.format("%n  %s %s [%d]: analytic %.9g numeric %.9g", p.name(), p.shape(), i, a,
                        numeric));
            }
        }
        assertTrue(bad.isEmpty(), "DenseCL loss (lambda " + lambda + ", N " + n + " in " + groups + " BN groups, neck BN "
                + neckBatchNorm + ", 64x64, K 18, D 8) gradient mismatch:"
                + bad);
        assertTrue(maxAbs > 1e-4, "DenseCL gradient check: every checked gradient is ~0 (" + maxAbs
                + "), the check would prove nothing");
    }
}
