package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.densecl.backend.VsRef.Pair;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * countNonFinite, cpu vs ref and vs a known count: NaN, +Inf and -Inf placed at the first and last
 * element, at the last lane of a vector, in the scalar tail and at parallel part boundaries, in odd
 * sizes (1, 13, and one above 2 * GRAIN so the count is split over parts). Counts are integers: exact.
 * Float.MAX_VALUE, -0.0 and subnormals are finite and must not be counted.
 */
class CpuFiniteTest {
    private static final int BIG = 70_001; // > 2 * GRAIN: several parallel parts, odd length

    private final CpuVsRef b = new CpuVsRef();

    @AfterEach
    void close() {
        b.close();
    }

    @Test
    void countsMatchRefAtAwkwardPositions() {
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7fc12345)};
        float[] edge = {Float.MAX_VALUE, -Float.MAX_VALUE, -0.0f, Float.MIN_VALUE};
        for (int n : new int[] {1, 13, BIG}) {
            Pair x = b.uniform(n, -3, 3, n);
            assertEquals(0, b.ref.countNonFinite(x.ref()), "countNonFinite ref, all finite, n=" + n);
            assertEquals(0, b.cpu.countNonFinite(x.dut()), "countNonFinite cpu, all finite, n=" + n);
            long[] positions = {0, n - 1, CpuVec.L - 1, n - n % CpuVec.L, n / 4, n / 2, n / 2 - 1, 3L * n / 4};
            java.util.Set<Long> placed = new java.util.TreeSet<>();
            int k = 0;
            for (long p : positions) {
                if (p >= 0 && p < n && placed.add(p)) {
                    x.ref().setFloat(p, bad[k++ % bad.length]);
                }
            }
            for (int i = 0; i < edge.length && n > 8; i++) {
                long p = 1 + i;
                if (!placed.contains(p)) {
                    x.ref().setFloat(p, edge[i]); // finite extremes next to the bad values
                }
            }
            b.mirror(x);
            assertEquals(placed.size(), b.ref.countNonFinite(x.ref()), "countNonFinite ref n=" + n + " at " + placed);
            assertEquals(placed.size(), b.cpu.countNonFinite(x.dut()), "countNonFinite cpu n=" + n + " at " + placed);
        }
    }

    @Test
    void everyElementBadAndRankFour() {
        Pair x = b.zeros(3, 5, 7, 11); // (N, H, W, C), 1155 elements
        b.ref.fill(x.ref(), Float.NaN);
        b.cpu.fill(x.dut(), Float.NaN);
        assertEquals(1155, b.ref.countNonFinite(x.ref()), "countNonFinite ref all NaN");
        assertEquals(1155, b.cpu.countNonFinite(x.dut()), "countNonFinite cpu all NaN");
    }

    @Test
    void cpuRefusesNonF32() {
        assertThrows(IllegalArgumentException.class,
                () -> b.cpu.countNonFinite(b.cpu.allocate(DType.I32, Shape.of(4))));
    }
}
