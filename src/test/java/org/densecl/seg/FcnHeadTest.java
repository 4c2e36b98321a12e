package org.densecl.seg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.cpu.CpuBackend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.nn.Act;
import org.densecl.nn.Activations;
import org.densecl.nn.Init;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.Test;

/** FcnHead's structure (mmseg names, order, shapes), initialisation, modes and assigned gradients. */
class FcnHeadTest {

    /** A head with its own registries, allocated and initialised. */
    private record Built(FcnHead head, Parameters params, Activations acts) {}

    private static Built build(Backend be, FcnHeadConfig hc, Shape x, int classes, long seed) {
        Parameters params = new Parameters(DType.F32);
        Activations acts = new Activations(DType.F32);
        FcnHead head = new FcnHead(be, params, acts, "decode_head", x, hc, classes);
        params.allocate(be);
        acts.allocate(be);
        head.initialize(new Init(be, seed));
        return new Built(head, params, acts);
    }

    @Test
    void parametersHaveMmsegNamesOrderAndShapes() {
        try (Backend be = new RefBackend()) {
            Built b = build(be, FcnHeadConfig.decode(8), Shape.of(1, 3, 3, 20), 21, 1);
            List<String> expected = new ArrayList<>(List.of("decode_head.conv_seg.weight", "decode_head.conv_seg.bias"));
            for (String m : List.of("convs.0", "convs.1", "conv_cat")) {
                expected.add("decode_head." + m + ".conv.weight");
                for (String s : List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked")) {
                    expected.add("decode_head." + m + ".bn." + s);
                }
            }
            assertEquals(expected, b.params().keys(), "mmseg FCNHead state_dict keys in its order");
            // KRSC in memory; conv_cat's input channels are [x (20), convs output (8)] as torch.cat orders them.
            assertEquals(Shape.of(21, 1, 1, 8), b.params().get("decode_head.conv_seg.weight").shape());
            assertEquals(Shape.of(21), b.params().get("decode_head.conv_seg.bias").shape());
            assertEquals(Shape.of(8, 3, 3, 20), b.params().get("decode_head.convs.0.conv.weight").shape());
            assertEquals(Shape.of(8, 3, 3, 8), b.params().get("decode_head.convs.1.conv.weight").shape());
            assertEquals(Shape.of(8, 3, 3, 28), b.params().get("decode_head.conv_cat.conv.weight").shape());
            assertEquals(Shape.of(1, 3, 3, 21), b.head().logits().shape());
            // The auxiliary head: one ConvModule and no conv_cat.
            Parameters aux = new Parameters(DType.F32);
            new FcnHead(be, aux, new Activations(DType.F32), "auxiliary_head", Shape.of(1, 3, 3, 16),
                    FcnHeadConfig.auxiliary(4), 2);
            assertEquals(List.of("auxiliary_head.conv_seg.weight", "auxiliary_head.conv_seg.bias",
                    "auxiliary_head.convs.0.conv.weight", "auxiliary_head.convs.0.bn.weight",
                    "auxiliary_head.convs.0.bn.bias", "auxiliary_head.convs.0.bn.running_mean",
                    "auxiliary_head.convs.0.bn.running_var", "auxiliary_head.convs.0.bn.num_batches_tracked"),
                    aux.keys());
        }
    }

    /**
     * mmcv's init: ConvModule convs N(0, 2 / fan_out) with fan_out = K*3*3, conv_seg N(0, 0.01^2) with bias 0,
     * BN gamma 1, beta 0, running mean 0, var 1. The sample std of n normal draws is within 1/sqrt(2n) of
     * sigma per standard deviation: 0.6% for convs.0 (13824 draws), so 5% is > 8 sigma; conv_seg has 3200
     * draws (1.3%), so 8% is > 6 sigma. A fan_in init (48*9 = 432 vs 288) would be 18% off.
     */
    @Test
    void initialisationFollowsMmcv() {
        try (Backend be = new RefBackend()) {
            Built b = build(be, FcnHeadConfig.decode(32), Shape.of(1, 2, 2, 48), 100, 3);
            assertStd(b, "decode_head.convs.0.conv.weight", Math.sqrt(2.0 / (32 * 9)), 0.05);
            assertStd(b, "decode_head.convs.1.conv.weight", Math.sqrt(2.0 / (32 * 9)), 0.05);
            assertStd(b, "decode_head.conv_cat.conv.weight", Math.sqrt(2.0 / (32 * 9)), 0.05);
            assertStd(b, "decode_head.conv_seg.weight", 0.01, 0.08);
            assertConstant(b, "decode_head.conv_seg.bias", 0);
            for (String m : List.of("convs.0", "convs.1", "conv_cat")) {
                assertConstant(b, "decode_head." + m + ".bn.weight", 1);
                assertConstant(b, "decode_head." + m + ".bn.bias", 0);
                assertConstant(b, "decode_head." + m + ".bn.running_mean", 0);
                assertConstant(b, "decode_head." + m + ".bn.running_var", 1);
            }
        }
    }

    private static void assertStd(Built b, String name, double std, double rel) {
        double[] v = values(b.params().get(name).value());
        double mean = Arrays.stream(v).average().orElseThrow();
        double sd = Math.sqrt(Arrays.stream(v).map(x -> (x - mean) * (x - mean)).sum() / v.length);
        assertEquals(std, sd, rel * std, name + " std (mean " + mean + ")");
        assertEquals(0, mean, 5 * std / Math.sqrt(v.length), name + " mean");
    }

    private static void assertConstant(Built b, String name, double value) {
        for (double x : values(b.params().get(name).value())) {
            assertEquals(value, x, 0.0, name);
        }
    }

    /**
     * Training mode drops channels chosen by the seed (another seed, other logits; the same seed, the same
     * logits) and updates BN statistics; evaluation mode ignores the seed, leaves the running statistics and
     * num_batches_tracked alone, and cannot be followed by backward.
     */
    @Test
    void dropoutAndStatisticsOnlyInTrainingMode() {
        try (Backend be = new RefBackend()) {
            Shape xs = Shape.of(2, 4, 5, 6);
            Built b = build(be, new FcnHeadConfig(8, 2, true, 0.5f), xs, 3, 5);
            FcnHeadGradCheckTest.randomizeAffine(b.params(), 5);
            Tensor x = be.allocate(xs);
            Rand.normal(x, 6, 1.0);
            FcnHead head = b.head();
            head.forward(x, true, 11);
            double[] train11 = values(head.logits().value());
            head.forward(x, true, 12);
            assertFalse(Arrays.equals(train11, values(head.logits().value())), "dropout seeds 11 and 12 agree");
            head.forward(x, true, 11);
            assertTrue(Arrays.equals(train11, values(head.logits().value())), "dropout seed 11 twice differs");
            Param runningVar = b.params().get("decode_head.conv_cat.bn.running_var");
            double[] var = values(runningVar.value());
            long count = b.params().counters().get(0).get();
            assertEquals(3, count, "three training forwards counted");

            head.forward(x, false, 11);
            double[] eval11 = values(head.logits().value());
            head.forward(x, false, 12);
            assertTrue(Arrays.equals(eval11, values(head.logits().value())), "evaluation depends on the seed");
            assertFalse(Arrays.equals(eval11, train11), "evaluation equals a training forward");
            assertTrue(Arrays.equals(var, values(runningVar.value())), "evaluation moved the running variance");
            assertEquals(count, b.params().counters().get(0).get(), "evaluation counted a batch");
            Tensor dx = be.allocate(xs);
            assertThrows(IllegalStateException.class, () -> head.backward(dx), "backward after evaluation");
        }
    }

    /**
     * The gradients FcnHead leaves to their first writer must be written whole before anything reads them:
     * backward twice on the same forward and upstream gradient, the second time with every assigned gradient
     * NaN first; parameter gradients and dx must agree bit for bit. On the cpu backend, whose kernels assign
     * in place, for all four head shapes (the assigned set depends on concatenation and dropout).
     */
    @Test
    void assignedGradientsAreWrittenBeforeTheyAreRead() {
        try (Backend be = new CpuBackend(2, "vector")) {
            for (boolean concat : new boolean[] {true, false}) {
                for (float p : new float[] {0f, 0.5f}) {
                    FcnHeadConfig hc = new FcnHeadConfig(6, 2, concat, p);
                    Shape xs = Shape.of(2, 5, 3, 9);
                    Built b = build(be, hc, xs, 4, 7);
                    Tensor x = be.allocate(xs), dy = be.allocate(b.head().logits().shape());
                    Rand.normal(x, 8, 1.0);
                    Rand.normal(dy, 9, 1.0);
                    b.head().forward(x, true, 10);
                    List<double[]> clean = backward(be, b, dy, xs, false);
                    List<double[]> poisoned = backward(be, b, dy, xs, true);
                    for (int i = 0; i < clean.size(); i++) {
                        assertTrue(Arrays.equals(clean.get(i), poisoned.get(i)), hc + ": gradient " + i
                                + " (parameters in order, then dx) changed when the assigned gradients were NaN");
                    }
                    assertFalse(b.acts().assignedGradients().isEmpty());
                    assertFalse(b.acts().assignedGradients().contains(b.head().logits()),
                            "the logits' gradient is where a loss adds: it must stay zeroed");
                }
            }
        }
    }

    // Every trainable gradient and dx after one backward from zeroed gradients (poisoned: assigned ones NaN).
    private static List<double[]> backward(Backend be, Built b, Tensor dy, Shape xs, boolean poison) {
        b.params().zeroGrads();
        b.acts().zeroGrads();
        if (poison) {
            for (Act a : b.acts().assignedGradients()) {
                be.fill(a.grad(), Float.NaN);
            }
        }
        be.copy(dy, b.head().logits().grad());
        Tensor dx = be.allocate(xs);
        b.head().backward(dx);
        List<double[]> out = new ArrayList<>();
        for (Param p : b.params().trainable()) {
            out.add(values(p.grad()));
        }
        out.add(values(dx));
        return out;
    }

    static double[] values(Tensor t) {
        double[] v = new double[(int) t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.get(i);
        }
        return v;
    }
}
