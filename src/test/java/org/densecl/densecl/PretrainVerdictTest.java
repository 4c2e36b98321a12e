package org.densecl.densecl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainVerdictTest {
    @TempDir
    Path dir;

    /** 100 steps: q_std and the gap take {@code early} for steps 1..90 and {@code late} for 91..100. */
    private Path log(double earlyStd, double earlyGap, double lateStd, double lateGap) throws IOException {
        List<String> lines = new ArrayList<>();
        for (int s = 1; s <= 100; s++) {
            double std = s <= 90 ? earlyStd : lateStd, gap = s <= 90 ? earlyGap : lateGap;
            lines.add(String.format(Locale.ROOT, "{\"step\":%d,\"loss\":5.0,\"loss_global\":2.5,\"loss_dense\":2.5,"
                    + "\"lr\":0.01,\"q_std\":%.4f,\"sim_pos\":%.4f,\"sim_neg\":0.5000,\"dead_hidden\":0.1000}", s, std,
                    0.5 + gap));
        }
        Path p = dir.resolve("log.jsonl");
        Files.write(p, lines);
        return p;
    }

    @Test
    void judgesTheLastTenthOfTheSteps() throws IOException {
        // alive early, collapsed in the last 10 steps: the end is what the backbone was left with
        PretrainVerdict v = PretrainVerdict.of(log(0.5, 0.2, 0.1, 0.0), PretrainVerdict.Limits.DEFAULT);
        assertFalse(v.alive());
        assertEquals(10, v.window());
        assertEquals(0.1, v.qStd(), 1e-9);
        assertTrue(v.line().contains("COLLAPSED") && !v.advice().isEmpty(), v.line());

        PretrainVerdict w = PretrainVerdict.of(log(0.1, 0.0, 0.3, 0.06), PretrainVerdict.Limits.DEFAULT);
        assertTrue(w.alive(), w.line());
        assertEquals(0.06, w.gap(), 1e-9);
        assertEquals("", w.advice());
    }

    @Test
    void bothIndicatorsMustPass() throws IOException {
        assertFalse(PretrainVerdict.of(log(0.5, 0.5, 0.5, 0.04), PretrainVerdict.Limits.DEFAULT).alive(), "gap 0.04 < 0.05");
        assertFalse(PretrainVerdict.of(log(0.5, 0.5, 0.24, 0.5), PretrainVerdict.Limits.DEFAULT).alive(), "q_std 0.24 < 0.25");
    }

    @Test
    void summaryRoundTripsAndIsStable() throws IOException {
        PretrainVerdict v = PretrainVerdict.of(log(0.3, 0.1, 0.12, 0.001), PretrainVerdict.Limits.DEFAULT);
        Path a = dir.resolve("a.json"), b = dir.resolve("b.json");
        v.write(a, Map.of("seed", 3));
        v.write(b, Map.of("seed", 3));
        assertEquals(Files.readString(a), Files.readString(b), "the same verdict writes the same bytes");
        assertTrue(Files.readString(a).contains("\"verdict\" : \"collapsed\""), Files.readString(a));
        assertEquals(v, PretrainVerdict.read(a));
    }

    @Test
    void aLogWithoutIndicatorsNamesTheField() throws IOException {
        Path p = dir.resolve("old.jsonl");
        Files.writeString(p, "{\"step\":1,\"loss\":5.0}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PretrainVerdict.of(p, PretrainVerdict.Limits.DEFAULT));
        assertTrue(e.getMessage().contains("q_std") && e.getMessage().contains(p.toString()), e.getMessage());
    }
}
