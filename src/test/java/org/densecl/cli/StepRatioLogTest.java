package org.densecl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StepRatioLogTest {
    @TempDir
    Path dir;

    static StepRatioLog.Run run(String step, String setup, double... ratios) {
        return new StepRatioLog.Run("2026-12-08T04:00:00Z", "test", null, step, setup, null, ratios, null, null);
    }

    @Test
    void appendedRunsReadBackInOrder() {
        Path log = dir.resolve("sub/ratios.jsonl");
        StepRatioLog.Run a = new StepRatioLog.Run("2026-12-08T04:00:00Z", "bench step --record", "ac0ee8e", "step a",
                "machine", "pytorch 1.13", new double[] {1.3, 1.2}, new double[] {1.5, 1.6}, new double[] {1.95, 1.92});
        StepRatioLog.append(log, a);
        StepRatioLog.append(log, run("step b", "machine", 1.1));
        List<StepRatioLog.Run> back = StepRatioLog.read(log);
        assertEquals(2, back.size());
        assertEquals("ac0ee8e", back.get(0).commit());
        assertArrayEquals(new double[] {1.3, 1.2}, back.get(0).roundRatios());
        assertArrayEquals(new double[] {1.95, 1.92}, back.get(0).pytorchSeconds());
        assertEquals("step b", back.get(1).step());
        assertNull(back.get(1).oursSeconds());
        assertEquals(Math.sqrt(1.3 * 1.2), back.get(0).geometricMean(), 1e-12);
    }

    @Test
    void badLinesAreNamedByFileAndLine() throws IOException {
        Path log = dir.resolve("bad.jsonl");
        String good = StepRatioLog.line(run("s", "m", 1.2));
        String[] bad = {
            "{\"step\":\"s\",\"setup\":\"m\",\"roundRatios\":[1.2],\"colour\":1}",
            "{\"step\":\"s\",\"setup\":\"m\",\"roundRatios\":[1.2, -1]}",
            "{\"step\":\"s\",\"setup\":\"m\",\"roundRatios\":[]}",
            "{\"step\":\"s\",\"setup\":\"m\",\"roundRatios\":[1.2],\"oursSeconds\":[1,2]}",
            "{\"setup\":\"m\",\"roundRatios\":[1.2]}",
            "garbage, not a JSON object",
            good + good,
            "{\"step\":\"s\",\"setup\":\"m\",\"step\":\"t\",\"roundRatios\":[1.2]}",
            "{\"step\":\"s\",\"setup\":\"m\",\"roundRatios\":\"fast\"}",
        };
        String[] expected = {"unknown key \"colour\"", "positive and finite, got -1.0", "one or more",
            "one value per round (1), got 2", "needs \"step\" and \"setup\"", "not JSON", "not a run: Trailing token",
            "Duplicate field 'step'", "key \"roundRatios\""};
        for (int i = 0; i < bad.length; i++) {
            Files.writeString(log, good + "\n\n" + bad[i] + "\n");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StepRatioLog.read(log));
            assertTrue(e.getMessage().startsWith(log + " line 3: ") && e.getMessage().contains(expected[i]),
                    bad[i] + " -> " + e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
        }
    }

    @Test
    void appendingKeepsTheEarlierLinesByteForByte() throws IOException {
        Path log = dir.resolve("hand.jsonl");
        String hand = "{\"step\": \"s\", \"setup\": \"m\", \"roundRatios\": [1.300, 1.2]}"; // no final newline
        Files.writeString(log, hand);
        StepRatioLog.append(log, run("s", "m", 1.25));
        assertEquals(hand + "\n" + StepRatioLog.line(run("s", "m", 1.25)) + "\n", Files.readString(log));
        assertEquals(2, StepRatioLog.read(log).size());
    }

    @Test
    void appendingToACorruptLogChangesNothing() throws IOException {
        Path log = dir.resolve("corrupt.jsonl");
        Files.writeString(log, "garbage\n");
        assertThrows(IllegalArgumentException.class, () -> StepRatioLog.append(log, run("s", "m", 1.2)));
        assertEquals("garbage\n", Files.readString(log));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(log), files.toList(), "no temporary left behind");
        }
    }

    @Test
    void aMissingLogSaysHowToMakeOne() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StepRatioLog.read(dir.resolve("none.jsonl")));
        assertTrue(e.getMessage().contains("no such file") && e.getMessage().contains("--record"), e.getMessage());
    }

    @Test
    void theProjectsLogParses() {
        Path log = Path.of("docs/step-ratios.jsonl");
        List<StepRatioLog.Run> runs = StepRatioLog.read(log);
        assertTrue(runs.size() >= 27, "the transcribed runs and later ones: " + runs.size());
        for (StepRatioLog.Run r : runs) {
            assertTrue(r.setup().contains("AVX"), "every run names its ISA: " + r.setup());
        }
        // the runs transcribed from docs/performance.md and issue 18's eighth session's four, per step and setup
        java.util.Map<String, Long> groups = runs.subList(0, 27).stream().collect(java.util.stream.Collectors.groupingBy(
                r -> r.step().split(" ")[0] + (r.setup().contains("UseAVX=2") ? " avx2" : " avx512"),
                java.util.stream.Collectors.counting()));
        assertEquals(java.util.Map.of("step_bench.py avx512", 6L, "densecl_step_bench.py avx512", 13L,
                "step_bench.py avx2", 3L, "densecl_step_bench.py avx2", 5L), groups);
    }
}
