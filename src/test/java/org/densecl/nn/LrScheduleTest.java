package org.densecl.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * Learning-rate schedules against values worked out by hand from mmcv's formulas. Doubles throughout,
 * so 1e-12 only absorbs the last bits of cos and pow.
 */
class LrScheduleTest {
    private static final double TOL = 1e-12;

    @Test
    void cosineFromBaseToMin() {
        LrSchedule s = LrSchedule.cosine(0.03, 0.0, 200);
        assertEquals(0.03, s.lr(0), TOL);
        assertEquals(0.015, s.lr(100), TOL, "half way: the mean of base and min");
        assertEquals(0.03 * (1 + Math.cos(Math.PI / 4)) / 2, s.lr(50), TOL);
        assertEquals(0.0, s.lr(200), TOL);
        assertEquals(0.0, s.lr(250), TOL, "clamped after the end");
        assertEquals(0.001 + 0.009 / 2, LrSchedule.cosine(0.01, 0.001, 10).lr(5), TOL, "with a floor");
    }

    @Test
    void polyAsMmsegmentation() {
        LrSchedule s = LrSchedule.poly(0.01, 0.9, 1e-4, 20000);
        assertEquals(0.01, s.lr(0), TOL);
        assertEquals((0.01 - 1e-4) * Math.pow(0.5, 0.9) + 1e-4, s.lr(10000), TOL);
        assertEquals(1e-4, s.lr(20000), TOL);
        assertEquals(0.5, LrSchedule.poly(1, 1, 0, 4).lr(2), TOL, "power 1 is linear");
    }

    @Test
    void perEpochHoldsTheRateWithinAnEpoch() {
        LrSchedule s = LrSchedule.perEpoch(LrSchedule.cosine(1, 0, 4), 10);
        assertEquals(1.0, s.lr(9), TOL, "iteration 9 is still epoch 0");
        assertEquals((1 + Math.cos(Math.PI / 4)) / 2, s.lr(10), TOL, "epoch 1 starts at iteration 10");
        assertEquals(s.lr(10), s.lr(19), TOL);
        assertEquals(0.5, s.lr(25), TOL, "epoch 2 of 4");
    }

    @Test
    void linearWarmupRisesFromRatio() {
        LrSchedule s = LrSchedule.withLinearWarmup(LrSchedule.constant(0.1), 100, 0.001);
        assertEquals(0.1 * 0.001, s.lr(0), TOL, "starts at ratio * regular");
        assertEquals(0.1 * (1 - 0.5 * (1 - 0.001)), s.lr(50), TOL, "half way");
        assertEquals(0.1, s.lr(100), TOL, "regular from the end of warm-up on");
        // The warm-up scales the regular schedule at the same iteration (mmcv's get_warmup_lr).
        LrSchedule p = LrSchedule.withLinearWarmup(LrSchedule.poly(1, 1, 0, 100), 10, 0.1);
        assertEquals(0.95 * (1 - 0.5 * 0.9), p.lr(5), TOL);
        assertEquals(0.9, p.lr(10), TOL);
    }

    @Test
    void rejectsBadLengths() {
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.poly(1, 0.9, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.perEpoch(LrSchedule.constant(1), 0));
        assertThrows(IllegalArgumentException.class,
                () -> LrSchedule.withLinearWarmup(LrSchedule.constant(1), 10, 1.5));
    }
}
