package org.densecl.seg;

import static org.densecl.testing.TensorAssert.host;
import static org.densecl.testing.TensorAssert.maxAbs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.Backend;
import org.densecl.backend.cpu.CpuBackend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.densecl.testing.TensorAssert;
import org.junit.jupiter.api.Test;

/**
 * One FCN forward and backward on the {@code cpu} backend against the {@code ref} oracle, F32 on both, same
 * weights, images, labels and dropout step: both losses, EVERY parameter gradient of the backbone and of
 * the heads, the BN running statistics and counters, and then the evaluation-mode logits of
 * {@link SegmentationModel#predict}.
 *
 * <p>Awkward sizes: 2 images of 37x45 (odd, not multiples of 8: C4 and C5 are 5x6, and the resize factors
 * are 7.4 and 7.5), blocks (1, 1, 2, 1) so that layer3 has an identity block at dilation 2, heads of 8 and 4
 * channels (not multiples of the vector width), 3 classes, a quarter of the pixels ignored, dropout 0.3.
 *
 * <p>Tolerances are ResNetStepParityTest's, for the same reasons: ref sums in double and rounds once, cpu
 * sums blocked in float on 2 threads, so each conv output differs by ~1e-7 relative, and BN backward's
 * cancellation (dy minus its means) lifts gradient differences to ~1e-4 of a tensor's largest gradient.
 * Gradients: atol 2e-3 x (the tensor's largest |ref gradient|) + rtol 2e-3; the worst difference measured
 * here (AVX-512 machine) was 5.4e-5 of its tensor's scale (bn1.bias), so there is a ~40x margin for other
 * ISAs' summation orders, while a wrong index or a missing term is off by O(1) of that scale. Losses: one float each,
 * 1e-5 + 1e-4 relative. Running statistics come from forward sums only (1e-5 + 1e-4). Eval logits are O(1)
 * sums through ~20 layers of float convolutions: 1e-4 of their largest value + 1e-4 relative.
 */
class SegmentationCpuVsRefTest {
    private static final int N = 2, H = 37, W = 45, CLASSES = 3;
    private static final long STEP = 3;

    @Test
    void cpuForwardBackwardAndPredictionMatchRef() {
        ResNetConfig r = SegmentationGradCheckTest.tinyConfig(0.3f).backbone().withBlocks(1, 1, 2, 1);
        SegmentationConfig cfg = SegmentationGradCheckTest.tinyConfig(0.3f).withBackbone(r);
        try (Backend ref = new RefBackend(); Backend cpu = new CpuBackend(2, "vector")) {
            SegmentationModel a = model(ref, cfg), b = model(cpu, cfg);
            Tensor[] inA = batch(a, ref), inB = batch(b, cpu);
            SegmentationModel.Losses la = a.lossAndGradients(inA[0], inA[1], STEP);
            SegmentationModel.Losses lb = b.lossAndGradients(inB[0], inB[1], STEP);
            TensorAssert.close("FCN losses (total, decode, aux), cpu vs ref",
                    new double[] {la.total(), la.decode(), la.aux()}, new double[] {lb.total(), lb.decode(), lb.aux()},
                    1e-5, 1e-4);

            int compared = 0;
            double worst = 0; // largest |cpu - ref| / scale over all gradients, printed for tolerance tuning
            String worstName = "";
            for (boolean heads : new boolean[] {false, true}) {
                Parameters pa = heads ? a.headParameters() : a.backbone().parameters();
                Parameters pb = heads ? b.headParameters() : b.backbone().parameters();
                for (Param p : pa.trainable()) {
                    double[] ga = host(p.grad());
                    double scale = maxAbs(ga);
                    assertTrue(scale > 0, p.name() + " has an all-zero gradient on ref");
                    double[] gb = host(pb.get(p.name()).grad());
                    TensorAssert.close("grad " + p.name() + " " + p.shape() + ", cpu vs ref", ga, gb, 2e-3 * scale,
                            2e-3);
                    for (int i = 0; i < ga.length; i++) {
                        if (Math.abs(ga[i] - gb[i]) / scale > worst) {
                            worst = Math.abs(ga[i] - gb[i]) / scale;
                            worstName = p.name();
                        }
                    }
                    compared++;
                }
                for (Param p : pa.all()) {
                    if (!p.trainable()) {
                        TensorAssert.close(p.name() + " " + p.shape() + ", cpu vs ref", host(p.value()),
                                host(pb.get(p.name()).value()), 1e-5, 1e-4);
                    }
                }
                for (int i = 0; i < pa.counters().size(); i++) {
                    assertEquals(1, pa.counters().get(i).get(), "ref " + pa.counters().get(i).name());
                    assertEquals(1, pb.counters().get(i).get(), "cpu " + pb.counters().get(i).name());
                }
            }
            // Backbone 4 stages (1, 1, 2, 1): stem 3 + 4 projection blocks x 12 + 1 identity block x 9 = 60;
            // heads: decode 2 + 3 ConvModules x 3 = 11, auxiliary 2 + 3 = 5.
            assertEquals(60 + 11 + 5, compared, "trainable tensors compared");
            System.out.printf("FCN cpu vs ref: losses %.8g / %.8g, worst gradient difference %.2e of its tensor's"
                    + " largest gradient (%s)%n", la.total(), lb.total(), worst, worstName);

            double[] ea = host(a.predict(inA[0])), eb = host(b.predict(inB[0]));
            TensorAssert.close("predict logits " + a.labelShape() + " x " + CLASSES + ", cpu vs ref", ea, eb,
                    1e-4 * maxAbs(ea), 1e-4);
        }
    }

    private static SegmentationModel model(Backend be, SegmentationConfig cfg) {
        SegmentationModel m = new SegmentationModel(be, cfg, DType.F32, N, H, W, CLASSES);
        m.initialize(23);
        return m;
    }

    // images (N, H, W, 1), labels I32 (N, H, W): the same values on either backend (host memory).
    private static Tensor[] batch(SegmentationModel m, Backend be) {
        Tensor images = be.allocate(DType.F32, m.inputShape());
        Rand.normal(images, 24, 1.0);
        Tensor labels = be.allocate(DType.I32, m.labelShape());
        Rand.labels(labels, 25, CLASSES, SegmentationModel.IGNORE_INDEX, 0.25);
        return new Tensor[] {images, labels};
    }
}
