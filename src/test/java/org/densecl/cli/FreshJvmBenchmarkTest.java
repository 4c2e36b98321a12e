package org.densecl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The fresh-JVM benchmark's two halves: reading a child's step output back, and the spread table. */
class FreshJvmBenchmarkTest {

    @Test
    void readsTheStepTimesCostAndEveryProfiledOpOfARealStepRun() {
        StepBenchmarkRun run = StepBenchmarkRun.of("--model", "resnet18", "--batch", "2", "--size", "32", "--warmup", "0",
                "--steps", "2", "--profile", "--profile-rows", "100000");
        assertEquals(0, run.code(), run.err());
        StepRunOutput r = StepRunOutput.parse(run.out());
        assertTrue(r.meanSeconds() > 0 && r.medianSeconds() >= r.minSeconds() && r.minSeconds() > 0, run.out());
        assertTrue(r.cpuSeconds() > 0, "CPU time per step: " + r.cpuSeconds());
        assertTrue(r.heapMib() >= 0, "heap per step: " + r.heapMib());
        assertTrue(run.out().contains("  huge pages: "), run.out());
        assertTrue(r.opMillis().containsKey("conv2dForward 7x7/2 3->64 at 32x32"), r.opMillis().keySet().toString());
        assertTrue(r.opMillis().containsKey("sgdStep"), r.opMillis().keySet().toString());
        // the per-shape table only: "by op" sums and the "all ops" line are not ops
        assertTrue(!r.opMillis().containsKey("conv2dForward") && !r.opMillis().containsKey("all ops"));
    }

    @Test
    void outputWithoutAStepLineIsAnErrorThatSaysWhatIsMissing() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> StepRunOutput.parse("Exception in main"));
        assertTrue(e.getMessage().contains("s/step"), e.getMessage());
    }

    @Test
    void theTableGivesTheSpreadAndTheOpsThatMovedMostFirst() {
        FreshJvmBenchmark b = new FreshJvmBenchmark();
        b.movedRows = 2;
        StepRunOutput fast = new StepRunOutput(1.0, 0.9, 1.0, 1.9, 0.1, 1500,
                Map.of("winograd", 100.0, "gemm", 200.0, "tiny", 1.0, "bn", 50.0), "");
        StepRunOutput mid = new StepRunOutput(1.1, 1.0, 1.1, 2.0, 0.1, 1500, Map.of("winograd", 110.0, "gemm", 200.0, "tiny", 1.0,
                "bn", 50.0), "");
        StepRunOutput slow = new StepRunOutput(2.0, 1.8, 2.0, 3.0, 900.0, 40,
                Map.of("winograd", 700.0, "gemm", 210.0, "tiny", 9.0, "bn", 90.0), "");
        String md = b.table("resnet50", List.of(mid, slow, fast), null);
        assertTrue(md.contains("min 1.000 s, median 1.100 s, max 2.000 s; slowest / fastest = **2.00**"), md);
        assertTrue(md.contains("fastest JVM (3) against slowest (2)"), md);
        int winograd = md.indexOf("| winograd | 100.0 | 700.0 | 7.00 |"), bn = md.indexOf("| bn | 50.0 | 90.0 | 1.80 |");
        assertTrue(winograd > 0 && bn > winograd, md);
        assertTrue(!md.contains("| gemm |"), "only --moved rows: " + md);
        assertTrue(!md.contains("| tiny |"), "ops under 1% of the step are left out: " + md);
        assertTrue(md.contains("| 2 | 2.000 | 1.800 | 3.000 | 900.0 | 40 |"), md);
        assertTrue(md.contains("Fastest step of each JVM: min 0.900 s, median 1.000 s, max 1.800 s; slowest / fastest = **2.00**"),
                md);
    }

    @Test
    void pairedTablesGiveEachJvmAgainstTheReference() {
        FreshJvmBenchmark b = new FreshJvmBenchmark();
        StepRunOutput one = new StepRunOutput(1.0, 0.9, 1.0, 1.9, 0.1, 1500, Map.of("gemm", 200.0), "");
        StepRunOutput two = new StepRunOutput(1.6, 1.5, 1.6, 2.0, 0.1, 1500, Map.of("gemm", 300.0), "");
        String md = b.table("densecl", List.of(one, two), List.of(1.02, 0.98));
        assertTrue(md.contains("| 1 | 1.000 | 0.900 | 1.900 | 0.1 | 1500 | 1.020 |"), md);
        assertTrue(md.contains("min 0.980, median 1.000, max 1.020; slowest / fastest = **1.04**"), md);
    }

    @Test
    void theReferenceJvmCanRunAnotherBuildWithItsOwnFlags() {
        FreshJvmBenchmark b = new FreshJvmBenchmark();
        new CommandLine(b).parseArgs("--jvm-flag", "-Dfresh=1", "--reference-jvm-flag", "-Ddensecl.vectorBits=256",
                "--reference-classpath", "/tmp/other/classes:/tmp/other/lib.jar");
        List<String> ref = b.referenceCommand("densecl", 4);
        int cp = ref.indexOf("-cp");
        assertEquals("/tmp/other/classes:/tmp/other/lib.jar", ref.get(cp + 1), ref.toString());
        assertTrue(ref.contains("-Ddensecl.vectorBits=256") && !ref.contains("-Dfresh=1"), ref.toString());
        assertTrue(ref.containsAll(List.of("--paced", "--queue")), ref.toString());

        FreshJvmBenchmark same = new FreshJvmBenchmark();
        new CommandLine(same).parseArgs("--jvm-flag", "-Dfresh=1");
        List<String> plain = same.referenceCommand("resnet50", 4);
        assertEquals(System.getProperty("java.class.path"), plain.get(plain.indexOf("-cp") + 1));
        assertTrue(plain.contains("-Dfresh=1"), "without its own flags the reference takes --jvm-flag's: " + plain);
    }

    @Test
    void referenceOptionsWithoutThePairedModeAreRefused(@TempDir Path dir) {
        CommandLine cl = new CommandLine(new FreshJvmBenchmark());
        java.io.StringWriter err = new java.io.StringWriter();
        cl.setErr(new java.io.PrintWriter(err));
        int code = cl.execute("--no-paired", "--reference-classpath", "/tmp/x", "--output", dir.toString());
        assertTrue(code != 0, "exit code " + code);
    }

    @Test
    void freshJvmsTakeTurnsWithAReferenceJvmStepByStep(@TempDir Path dir) throws Exception {
        // Three real child JVMs (the reference and two fresh ones) on a tiny ResNet-50 step.
        int code = new CommandLine(new FreshJvmBenchmark()).execute("--jvms", "2", "--models", "resnet50", "--batch",
                "2", "--size", "32", "--warmup", "1", "--steps", "2", "--output", dir.toString());
        assertEquals(0, code);
        String md = Files.readString(dir.resolve("fresh-jvms.md"));
        assertTrue(md.contains("x reference |") && md.contains("Against the reference JVM, step by step"), md);
        // The reference ran its warm-up, then one timed step for each of the fresh JVMs' 2 x 2.
        String reference = Files.readString(dir.resolve("resnet50-reference.txt"));
        assertTrue(reference.contains("1 warm-up + 4 timed steps"), reference);
        assertTrue(!reference.contains("PACED"), "pacing lines are not kept: " + reference);
        StepRunOutput fresh = StepRunOutput.parse(Files.readString(dir.resolve("resnet50-2.txt")));
        assertTrue(fresh.medianSeconds() > 0, "" + fresh);
        // The table's machine line is the children's, who chose their kernels' width for their model.
        assertTrue(fresh.machine().contains("cpu kernels use"), fresh.machine());
        assertTrue(md.contains("Machine: " + fresh.machine()), md);
    }

    @Test
    void stepBenchmarkDisablesNamedPathsAndRefusesUnknownOnes() {
        StepBenchmarkRun run = StepBenchmarkRun.of("--model", "resnet18", "--batch", "2", "--size", "32", "--warmup", "0",
                "--steps", "1", "--disable", "splitK,stemConv");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("without splitK stemConv"), run.out());
        StepBenchmarkRun.assertOneLineErrors(new String[][] {{"--disable", "winograd"}},
                new String[] {"--disable takes splitK, wholeK, directC, packWholeA, stemConv or transposedFilterGradient, not winograd"});
    }
}
