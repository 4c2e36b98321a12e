package org.densecl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RoundRatiosTest {

    @Test
    void equalRoundsGiveAnIntervalOfWidthZero() {
        RoundRatios r = RoundRatios.of(new double[] {1.3, 1.3, 1.3});
        assertEquals(1.3, r.geometricMean(), 1e-12);
        assertEquals(1.3, r.low(), 1e-12);
        assertEquals(1.3, r.high(), 1e-12);
    }

    @Test
    void twoRoundsUseStudentsTWithOneDegreeOfFreedom() {
        // logs 0 and 0.2: mean 0.1, sd sqrt(0.02), t(1, 0.975) = 12.7062, half width 12.7062 * 0.1 = 1.27062.
        RoundRatios r = RoundRatios.of(new double[] {1.0, Math.exp(0.2)});
        assertEquals(Math.exp(0.1), r.geometricMean(), 1e-12);
        assertEquals(0.310174, r.low(), 1e-5);
        assertEquals(3.937793, r.high(), 1e-5);
    }

    @Test
    void fiveRoundsOfANoisyRun() {
        // issue 18's sixth session, DenseCL on AVX-512: rounds 1.174, 1.116, 1.502, 1.188, 1.197; t(4) = 2.77645.
        RoundRatios r = RoundRatios.of(new double[] {1.174, 1.116, 1.502, 1.188, 1.197});
        assertEquals(1.228521, r.geometricMean(), 1e-5);
        assertEquals(1.064210, r.low(), 1e-5);
        assertEquals(1.418200, r.high(), 1e-5);
        assertEquals(5, r.rounds());
        String line = r.line();
        assertTrue(line.contains("geometric mean 1.229") && line.contains("95% interval 1.064-1.418")
                && line.contains("over 5 rounds"), line);
    }

    @Test
    void refusesFewerThanTwoRoundsAndNonPositiveRatios() {
        assertThrows(IllegalArgumentException.class, () -> RoundRatios.of(new double[] {1.2}));
        assertThrows(IllegalArgumentException.class, () -> RoundRatios.of(new double[] {1.2, 0}));
        assertThrows(IllegalArgumentException.class, () -> RoundRatios.of(new double[] {1.2, Double.NaN}));
    }
}
