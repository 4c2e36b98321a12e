package org.densecl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Activations;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.junit.jupiter.api.Test;

/**
 * {@code bench step --model densecl}: the FLOP count against published figures, one tiny step end to end
 * (ResNet-18 at 1/16 width, 32x32, queue 8), and that bad arguments give one line and exit code 1.
 */
class DenseClStepBenchmarkTest {

    @Test
    void flopsOfResNet50DenseClStep() {
        try (Backend be = new RefBackend()) {
            // planned only (nothing allocated): the conv geometries are all the count needs
            ResNet net = new ResNet(be, ResNetConfig.resnet(50), new Parameters(DType.F32), new Activations(DType.F32),
                    "", 1, 224, 224);
            DenseClStepBenchmark.Flops f = DenseClStepBenchmark.Flops.of(net.convs(), 1, 49, 2048, 2048, 128, 4096);
            // torchvision's ResNet-50 is 4.09 GMAC per 224x224 image; its fc is 2048 x 1000 = 2.048 MMAC, so the
            // backbone without fc is 4.0887 GMAC = 8.177 GFLOP. Our count leaves out BN/ReLU/pool as that one does.
            assertEquals(8.177e9, f.backboneForward(), 0.01e9, "DenseCL FLOPs: ResNet-50 backbone forward, 1x224x224");
            // neck at S = 7: (2048*2048 + 2048*128) MACs per vector, once pooled + 49 locations, times 2
            double neck = 2.0 * (2048.0 * 2048 + 2048.0 * 128) * 50;
            assertEquals(neck, f.neckForward(), 1, "DenseCL FLOPs: neck forward, 1 image, 7x7 C5");
            double contrastive = 4.0 * 50 * 4097 * 128 + 2.0 * 49 * 49 * 2048;
            assertEquals(contrastive, f.contrastive(), 1, "DenseCL FLOPs: logits fwd+bwd and matching, K 4096");
            assertEquals(4 * f.backboneForward() + 4 * neck + contrastive, f.step(), 1, "DenseCL FLOPs: one step");
        }
    }

    @Test
    void tinyStepRunsAndReports() {
        StepBenchmarkRun r = StepBenchmarkRun.of("--model", "densecl", "--arch", "resnet18", "--width-multiplier",
                "0.0625", "--batch", "2", "--size", "32", "--channels", "1", "--queue", "8", "--warmup", "1", "--steps", "2", "--threads", "1");
        assertEquals(0, r.code(), "bench step --model densecl (tiny): exit code; stderr: " + r.err());
        assertTrue(r.out().contains("densecl resnet18 width x0.0625 batch 2 1x32x32 queue 8 bn-groups 1"), r.out());
        assertTrue(r.out().matches("(?s).*\\d+\\.\\d{3} images/s, \\d+\\.\\d{4} s/step.*"), r.out());
        assertTrue(r.out().matches("(?s).*\\d+\\.\\d{2} GFLOP/s \\(direct-convolution FLOPs; step = .*"), r.out());
        assertTrue(r.out().contains("(vector, winograd, 1 threads)"), r.out());
        assertTrue(!r.out().contains("NaN"), "bench step --model densecl (tiny): non-finite loss: " + r.out());
    }

    @Test
    void badArgumentsGiveOneLineAndExitCode1() {
        String[][] cases = {
            {"--model", "densecl", "--batch", "4", "--queue", "10"},
            {"--model", "densecl", "--arch", "resnet99"},
            {"--model", "densecl", "--batch", "4", "--bn-groups", "3"},
            {"--model", "resnet50", "--queue", "4096"},
        };
        String[] expected = {"--queue 10", "--arch", "--bn-groups 3", "--model densecl only"};
        StepBenchmarkRun.assertOneLineErrors(cases, expected);
    }
}
