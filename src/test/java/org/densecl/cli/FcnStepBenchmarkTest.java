package org.densecl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.model.ResNet;
import org.densecl.nn.Activations;
import org.densecl.nn.Parameters;
import org.densecl.seg.FcnHead;
import org.densecl.seg.SegmentationConfig;
import org.densecl.tensor.DType;
import org.junit.jupiter.api.Test;

/**
 * {@code bench step --model fcn}: the FLOP count against one by hand and the PyTorch twin's, one tiny step end to
 * end (width 1/16, 64x64, the fcn defaults for batch, channels and classes), and that bad arguments give
 * one line and exit code 1.
 */
class FcnStepBenchmarkTest {

    @Test
    void flopsOfFcnR50D8At256() {
        try (Backend be = new RefBackend()) {
            // planned only (nothing allocated): the conv geometries are all the count needs
            SegmentationConfig cfg = SegmentationConfig.fcnR50D8();
            Parameters params = new Parameters(DType.F32);
            Activations acts = new Activations(DType.F32);
            ResNet net = new ResNet(be, cfg.backbone(), params, acts, "", 1, 256, 256);
            FcnHead decode = new FcnHead(be, params, acts, "decode_head", net.c5().shape(), cfg.decodeHead(), 2);
            FcnHead aux = new FcnHead(be, params, acts, "auxiliary_head", net.stage(2).shape(), cfg.auxHead(), 2);
            FcnStepBenchmark.Flops f = FcnStepBenchmark.Flops.of(net.convs(), decode.convs(), aux.convs());
            // Output stride 8: both heads run on 32 x 32 maps. Decode: 3x3 2048->512, 3x3 512->512, conv_cat 3x3
            // (2048 + 512)->512, conv_seg 1x1 512->2; auxiliary: 3x3 1024->256, conv_seg 256->2. 2 FLOPs per MAC.
            double p = 32 * 32;
            assertEquals(2 * p * (9.0 * 2048 * 512 + 9.0 * 512 * 512 + 9.0 * 2560 * 512 + 512 * 2), f.decodeHead(), 1,
                    "FCN FLOPs: decode head, 1x256x256");
            assertEquals(2 * p * (9.0 * 1024 * 256 + 256 * 2), f.auxHead(), 1, "FCN FLOPs: auxiliary head, 1x256x256");
            // The dilated backbone, against the PyTorch twin's count: forward hooks on every nn.Conv2d of
            // bench/pytorch/fcn_model.py's FCN(2, 1.0, 3) on a meta-device 1x3x256x256 input, 2 * output numel *
            // weight[0].numel(). 5x ResNet-50's 10.7 GFLOP at 256: layer3 and layer4 stay at 32 x 32.
            assertEquals(49_834_622_976.0, f.backbone(), 1, "FCN FLOPs: R50-D8 backbone, 1x3x256x256");
            assertEquals(3 * (f.backbone() + f.decodeHead() + f.auxHead()), f.step(), 1, "FCN FLOPs: one step");
        }
    }

    @Test
    void tinyStepRunsAndReports() {
        StepBenchmarkRun r = StepBenchmarkRun.of("--model", "fcn", "--width-multiplier", "0.0625", "--size", "64",
                "--warmup", "1", "--steps", "2", "--threads", "1");
        assertEquals(0, r.code(), "bench step --model fcn (tiny): exit code; stderr: " + r.err());
        assertTrue(r.out().contains("fcn r50-d8 width x0.0625 batch 2 1x64x64 classes 2 ("), r.out());
        assertTrue(r.out().matches("(?s).*\\d+\\.\\d{3} images/s, \\d+\\.\\d{4} s/step.*"), r.out());
        assertTrue(r.out().matches("(?s).*\\d+\\.\\d{2} GFLOP/s \\(direct-convolution FLOPs.*"), r.out());
        assertTrue(r.out().contains("(vector, winograd, 1 threads)"), r.out());
        assertTrue(!r.out().contains("NaN"), "bench step --model fcn (tiny): non-finite loss: " + r.out());
    }

    @Test
    void badArgumentsGiveOneLineAndExitCode1() {
        String[][] cases = {
            {"--model", "fcn", "--queue", "4096"},
            {"--model", "fcn", "--classes", "255"},
            {"--model", "fcn", "--width-multiplier", "0"},
            {"--model", "resnet50", "--width-multiplier", "0.5"},
            {"--model", "fcnn"},
        };
        String[] expected = {"--model densecl only", "--classes below 255", "--width-multiplier must be > 0",
            "--model densecl and fcn only", "densecl or fcn, not fcnn"};
        StepBenchmarkRun.assertOneLineErrors(cases, expected);
    }
}
