package org.densecl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.densecl.report.StepRatioChart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RatiosCommandTest {
    @TempDir
    Path dir;

    private Path log(StepRatioLog.Run... runs) {
        Path log = dir.resolve("ratios.jsonl");
        for (StepRatioLog.Run r : runs) {
            StepRatioLog.append(log, r);
        }
        return log;
    }

    private static StepRatioLog.Run run(String step, String setup, double... ratios) {
        return StepRatioLogTest.run(step, setup, ratios);
    }

    @Test
    void poolsRunsPerStepAndSetup() {
        Path log = log(run("densecl", "AVX-512", 1.20, 1.34, 1.32), run("resnet50", "AVX-512", 1.2, 1.4),
                run("densecl", "AVX-512", 1.30, 1.31, 1.32), run("densecl", "AVX2 cap", 1.4, 1.5));
        StepBenchmarkRun r = StepBenchmarkRun.of(RatiosCommand::run, log.toString());
        assertEquals(0, r.code(), r.err());
        String out = r.out();
        assertTrue(out.contains(log + ", 4 runs; target 1.25"), out);
        // densecl on AVX-512: two runs, their geometric means pooled with Student's t over the two
        double m1 = Math.cbrt(1.20 * 1.34 * 1.32), m2 = Math.cbrt(1.30 * 1.31 * 1.32);
        RoundRatios runs = RoundRatios.of(new double[] {m1, m2});
        String expected = String.format(Locale.ROOT, "over the 2 runs: geometric mean %.3f, 95%% interval %.3f-%.3f",
                runs.geometricMean(), runs.low(), runs.high());
        assertTrue(out.contains("densecl\n  on AVX-512\n"), out);
        assertTrue(out.contains(expected), expected + " in " + out);
        assertTrue(out.contains("over the 6 rounds: geometric mean"), out);
        // the latest run's three rounds are tight, but two runs give t(1) = 12.7: not shown for densecl
        assertTrue(out.contains("target 1.25 not shown: the latest run's interval clears it, the runs' interval reaches"
                + " below it"), out);
        // one run: no interval over runs, so nothing is claimed
        assertTrue(out.contains("over the 1 run: geometric mean 1.449, 95% interval n/a (one run)"), out);
        assertTrue(out.contains("the runs' interval cannot say"), out);
        // resnet50's one run: 1 of its 2 rounds below the target
        String resnet = out.substring(out.indexOf("resnet50\n"), out.indexOf("densecl\n  on AVX2 cap"));
        assertTrue(resnet.contains("2 rounds: geometric mean 1.296") && resnet.contains("1 of them below 1.25"), resnet);
    }

    @Test
    void showsATargetOnlyWhenTheLatestRunAndTheRunsBothClearIt() {
        Path log = log(run("s", "m", 1.40, 1.41, 1.42), run("s", "m", 1.38, 1.39, 1.40), run("s", "m", 1.41, 1.43));
        StepBenchmarkRun shown = StepBenchmarkRun.of(RatiosCommand::run, log.toString());
        assertTrue(shown.out().contains("target 1.25 SHOWN: the latest run's interval clears it, the runs' interval"
                + " clears it"), shown.out());
        StepBenchmarkRun higher = StepBenchmarkRun.of(RatiosCommand::run, log.toString(), "--target", "1.45");
        assertTrue(higher.out().contains("target 1.45 not shown: the latest run's interval reaches below it"),
                higher.out());
        // a noisy latest run below the target while the runs, pooled, clear it: not shown either
        Path noisy = dir.resolve("noisy.jsonl");
        for (double[] r : new double[][] {{1.40, 1.41}, {1.39, 1.40}, {1.41, 1.40}, {1.10, 1.70}}) {
            StepRatioLog.append(noisy, run("s", "m", r));
        }
        String out = StepBenchmarkRun.of(RatiosCommand::run, noisy.toString()).out();
        assertTrue(out.contains("target 1.25 not shown: the latest run's interval reaches below it, the runs' interval"
                + " clears it"), out);
    }

    @Test
    void aRunOfOneRoundPoolsButHasNoIntervalOfItsOwn() {
        Path log = log(run("s", "m", 1.3, 1.32), run("s", "m", 1.36));
        String out = StepBenchmarkRun.of(RatiosCommand::run, log.toString()).out();
        assertTrue(out.matches("(?s).*\\n     2  \\S+\\s+1     1\\.360  n/a .*"), out);
        assertTrue(out.contains("over the 3 rounds: geometric mean " + String.format(Locale.ROOT, "%.3f",
                Math.cbrt(1.3 * 1.32 * 1.36))), out);
        assertTrue(out.contains("target 1.25 not shown: the latest run's interval cannot say (one value, no interval)"
                + " whether it clears it"), out);
    }

    @Test
    void filtersAndPlotsOnePanelPerGroup() throws IOException {
        Path log = log(run("densecl", "AVX-512", 1.3, 1.2), run("resnet50", "AVX-512", 1.3, 1.4),
                run("densecl", "AVX2 cap", 1.3, 1.35), run("densecl", "AVX-512", 1.25));
        Path png = dir.resolve("figs/ratios.png");
        StepBenchmarkRun r = StepBenchmarkRun.of(RatiosCommand::run, log.toString(), "--step", "densecl", "--plot",
                png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(!r.out().contains("resnet50"), r.out());
        assertTrue(r.out().contains("plot: " + png), r.out());
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(StepRatioChart.WIDTH, image.getWidth());
        assertEquals(2 * StepRatioChart.PANEL_HEIGHT, image.getHeight(), "densecl on two setups: two panels");
        StepBenchmarkRun avx2 = StepBenchmarkRun.of(RatiosCommand::run, log.toString(), "--setup", "AVX2");
        assertTrue(avx2.out().contains("on AVX2 cap") && !avx2.out().contains("on AVX-512"), avx2.out());
    }

    @Test
    void badInputGivesOneLineAndExitCode1() throws IOException {
        Path log = log(run("s", "m", 1.3));
        Path corrupt = dir.resolve("corrupt.jsonl");
        Files.writeString(corrupt, "{\"step\":\"s\"}\n");
        String[][] cases = {
            {dir.resolve("missing.jsonl").toString()},
            {corrupt.toString()},
            {log.toString(), "--step", "nothing like it"},
            {log.toString(), "--target", "0"},
        };
        String[] expected = {"missing.jsonl: no such file", "corrupt.jsonl line 1: not a run", "has no runs matching",
            "--target must be positive"};
        StepBenchmarkRun.assertOneLineErrors(RatiosCommand::run, "", cases, expected);
    }

    @Test
    void benchStepRecordsEachComparisonForRatiosToPool() throws IOException {
        // A stand-in for the PyTorch twin: the two lines PytorchStep reads, 0.5 s per step.
        Path twin = dir.resolve("fake-python.sh");
        Files.writeString(twin, "#!/bin/sh\necho 'pytorch fake twin, 1 threads: 2.000 images/s, 0.5000 s/step'\n"
                + "echo 'STEPS 0.5 0.5'\n");
        assertTrue(twin.toFile().setExecutable(true));
        Path log = dir.resolve("log.jsonl");
        String[] args = {"--model", "resnet18", "--batch", "2", "--size", "32", "--warmup", "0", "--steps", "2",
            "--threads", "1", "--compare-pytorch", "--rounds", "2", "--python", twin.toString(), "--record", log.toString()};
        StepBenchmarkRun r = StepBenchmarkRun.of(args);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("recorded in " + log), r.out());
        StepBenchmarkRun again = StepBenchmarkRun.of(args);
        assertEquals(0, again.code(), again.err());
        List<StepRatioLog.Run> runs = StepRatioLog.read(log);
        assertEquals(2, runs.size());
        StepRatioLog.Run run = runs.get(1);
        assertEquals("step_bench.py --model resnet18 --batch 2 --size 32 --channels 3 --classes 1000 --threads 1;"
                + " ours cpu (vector, winograd, 1 threads)", run.step());
        assertTrue(run.setup().contains("cpu kernels use") && run.setup().contains("cores"), run.setup());
        assertEquals("pytorch fake twin, 1 threads", run.pytorch());
        assertEquals(2, run.roundRatios().length);
        for (int i = 0; i < 2; i++) {
            assertEquals(0.5, run.pytorchSeconds()[i], 1e-12);
            assertEquals(0.5 / run.oursSeconds()[i], run.roundRatios()[i], 1e-12);
        }
        StepBenchmarkRun pooled = StepBenchmarkRun.of(RatiosCommand::run, log.toString());
        assertTrue(pooled.out().contains("over the 2 runs"), pooled.out());
        // refused before any round: nothing to record, a profiled run, a log that cannot be written
        StepBenchmarkRun.assertOneLineErrors(StepBenchmark::run, "bench step", new String[][] {
            {"--model", "resnet18", "--record", log.toString()},
            {"--model", "resnet18", "--compare-pytorch", "--profile", "--record", log.toString()},
            {"--model", "resnet18", "--compare-pytorch", "--record", dir.toString()},
        }, new String[] {"--record needs --compare-pytorch", "--record with --profile", "cannot be written (a folder)"});
        assertEquals(2, StepRatioLog.read(log).size(), "the refused runs wrote nothing");
    }
}
