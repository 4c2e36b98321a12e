package org.densecl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.densecl.backend.ConvGeometry;
import org.densecl.benchmark.ConvLayers.Layer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code bench conv-layers}: a tiny run end to end, its one-line errors, the PyTorch twin's output parsed, and
 * (where Debian's torch is installed) a tiny comparison.
 */
class ConvLayersBenchmarkTest {
    private static final String[] TINY = {"--model", "resnet18", "--batch", "1", "--size", "32", "--warmup", "0",
        "--reps", "1", "--threads", "1"};

    private static StepBenchmarkRun run(String... extra) {
        String[] args = new String[TINY.length + extra.length];
        System.arraycopy(TINY, 0, args, 0, TINY.length);
        System.arraycopy(extra, 0, args, TINY.length, extra.length);
        return StepBenchmarkRun.of(ConvLayersBenchmark::run, args);
    }

    @Test
    void tinyRunPrintsEveryLayer() {
        StepBenchmarkRun r = run("--rounds", "1");
        assertEquals(0, r.code(), "bench conv-layers (tiny): exit code; stderr: " + r.err());
        assertTrue(r.out().contains("conv layers of a resnet18 step, batch 1, 32x32: 11 distinct of 20"), r.out());
        assertTrue(r.out().matches("(?s).*\\n  7x7/2 3->64 at 32x32 +1 +0 +1 .*"), r.out());
        assertTrue(r.out().contains("  machine: "), r.out());
        assertTrue(r.out().matches("(?s).*per step \\(calls x ms/call, rounds' mean\\): ours \\d+\\.\\d ms.*"), r.out());
    }

    @Test
    void denseClStepAddsTheDenseNeckAndRunsEveryForwardTwice() {
        StepBenchmarkRun r = StepBenchmarkRun.of(ConvLayersBenchmark::run, "--model", "densecl", "--arch", "resnet18",
                "--batch", "1", "--size", "32", "--warmup", "0", "--reps", "1", "--threads", "1", "--rounds", "1");
        assertEquals(0, r.code(), "bench conv-layers --model densecl (tiny): exit code; stderr: " + r.err());
        assertTrue(r.out().contains("conv layers of a densecl resnet18 (backbone and dense neck) step, batch 1, 32x32:"
                + " 13 distinct of 22"), r.out());
        assertTrue(r.out().matches("(?s).*\\n  7x7/2 3->64 at 32x32 +2 +0 +1 .*"), "the stem, twice forward: " + r.out());
        // the neck on ResNet-18's 512-channel C5 (1x1 at 32x32): hidden 2048, then 128 dims
        assertTrue(r.out().matches("(?s).*\\n  1x1/1 512->2048 at 1x1 +2 +1 +1 .*"), r.out());
        assertTrue(r.out().matches("(?s).*\\n  1x1/1 2048->128 at 1x1 +2 +1 +1 .*"), r.out());
    }

    @Test
    void badArgumentsGiveOneLineAndExitCode1() {
        // Each fails before timing anything but the last, which fails after its tiny round of ours.
        // Each fails before timing anything: the interpreter is tried before our first round.
        String[][] cases = {
            {"--model", "resnet99"},
            {"--model", "resnet18", "--arch", "resnet50"},
            {"--model", "densecl", "--arch", "vgg16"},
            {"--rounds", "0"},
            {"--reps", "0"},
            {"--pytorch-memory-format", "nchw"},
            {"--compare-pytorch", "--python", "/nonexistent/python3"},
        };
        String[] expected = {"--model resnet99", "--arch is for --model densecl only", "--arch vgg16",
            "--rounds 0 is below 1", "--reps 0 is below 1", "--pytorch-memory-format nchw",
            "cannot start /nonexistent/python3"};
        StepBenchmarkRun.assertOneLineErrors(ConvLayersBenchmark::run, "bench conv-layers", cases, expected);
    }

    @Test
    void parsesTheTwinsLayerLines() {
        List<String> lines = List.of("pytorch 1.13.0, channels_last, 2 threads: conv layers", "LAYER 1 4e-3 5e-3 6e-3",
                "LAYER 0 1.0e-3 2.0e-3 3.0e-3");
        double[][] s = ConvLayersBenchmark.parse(lines, 2);
        assertArrayEquals(new double[] {1e-3, 2e-3, 3e-3}, s[0], 0);
        assertArrayEquals(new double[] {4e-3, 5e-3, 6e-3}, s[1], 0);
        assertThrows(IllegalStateException.class, () -> ConvLayersBenchmark.parse(lines, 3), "a layer without a line");
        assertThrows(IllegalStateException.class,
                () -> ConvLayersBenchmark.parse(List.of("LAYER 2 1 2 3"), 2), "an index out of range");
        assertThrows(IllegalStateException.class, () -> ConvLayersBenchmark.parse(List.of("LAYER "), 1), "no fields");
        assertThrows(IllegalStateException.class, () -> ConvLayersBenchmark.parse(List.of("LAYER x 1 2 3"), 1), "no index");
        assertTrue(Double.isNaN(ConvLayersBenchmark.parse(List.of("LAYER 0 1e-3 nan 2e-3"), 1)[0][1]), "a pass not run");
    }

    @Test
    void largestLossesRankByStepTime() {
        List<Layer> layers = List.of(new Layer(ConvGeometry.of(1, 8, 8, 16, 16, 3, 1, 1, 1), 2, 1, 1),
                new Layer(ConvGeometry.of(1, 8, 8, 16, 32, 1, 1, 0, 1), 1, 1, 1));
        double[][] ours = {{2e-3, 1e-3, 1e-3}, {1e-3, 4e-3, 1e-3}};
        double[][] theirs = {{1e-3, 2e-3, 1e-3}, {1e-3, 1e-3, 1e-3}};
        // layer 1's data gradient loses 3 ms in its one call, layer 0's forward 1 ms in each of two
        assertEquals("1x1/1 16->32 at 8x8 data +3.0, 3x3/1 16->16 at 8x8 forward +2.0",
                ConvLayersTable.largestLosses(layers, ours, theirs, 5));
        assertEquals("none", ConvLayersTable.largestLosses(layers, theirs, theirs, 5));
    }

    @Test
    void tinyComparisonWithPytorch() throws Exception {
        String python = "/usr/bin/python3";
        Process probe;
        try {
            probe = new ProcessBuilder(python, "-c", "import torch").redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            probe = null;
        }
        boolean torch = probe != null && probe.waitFor(60, TimeUnit.SECONDS) && probe.exitValue() == 0;
        Assumptions.assumeTrue(torch, "no torch for " + python + " (Debian's python3-torch): the PyTorch side is not run");
        StepBenchmarkRun r = run("--rounds", "2", "--compare-pytorch");
        assertEquals(0, r.code(), "bench conv-layers --compare-pytorch (tiny): exit code; stderr: " + r.err());
        assertTrue(r.out().contains("threads: conv layers"), r.out());
        assertTrue(r.out().matches("(?s).*pytorch \\d+\\.\\d ms: ours / pytorch = \\d+\\.\\d{3} .*"), r.out());
        assertTrue(r.out().contains("ours / pytorch, rounds' ratios: geometric mean"), r.out());
        assertTrue(r.out().contains("where pytorch gains most (ms per step): "), r.out());
    }
}
