package org.densecl.backend.cpu;

import org.densecl.backend.PoolGeometry;
import org.densecl.backend.VsRef.Pair;
import org.densecl.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * cpu vs ref for max pool, global average pool and adaptive average pool, forward and backward
 * (backward into a non-zero dx, since it accumulates). Max pool is also run on inputs with many ties
 * (values from {0, 1, 2}) to pin the "first maximum in row-major window order" rule, and with padding
 * where a window hangs over the border.
 *
 * <p>Tolerance. Max pool moves values without arithmetic: forward is exact, backward is one float
 * addition per routed element (exact vs ref's double add rounded once, except that a dx element hit
 * by several overlapping windows sums in another order: rtol 1e-6). Averages sum at most a few
 * hundred O(1) values in float: a few ulps of the result, rtol 1e-5 with atol 1e-6 for results near 0.
 */
class CpuPoolingTest {
    private final CpuVsRef b = new CpuVsRef();

    @AfterEach
    void close() {
        b.close();
    }

    @Test
    void maxPoolMatchesRefIncludingTiesAndPadding() {
        PoolGeometry[] cases = {
            PoolGeometry.resnetStem(2, 13, 11, 37), // 3x3 stride 2 pad 1, odd sizes
            new PoolGeometry(1, 7, 9, 5, 2, 2, 2, 0), // non-overlapping, batch 1
            new PoolGeometry(1, 6, 5, 17, 3, 3, 1, 1), // stride 1: every element in up to 9 windows
            new PoolGeometry(3, 10, 12, 64, 3, 2, 2, 1), // non-square window, whole vectors only
            new PoolGeometry(1, 1, 1, 3, 1, 1, 1, 0), // 1x1 spatial, 1x1 window
            new PoolGeometry(2, 3, 3, 1, 3, 3, 2, 1), // one channel, windows mostly padding
            new PoolGeometry(2, 8, 9, 11, 2, 2, 3, 0), // stride > window: rows and columns no window covers
            // Enough work for 4 parts (the backward splits dx rows of all samples): part boundaries fall
            // inside a sample, where a part must compute the winners of rows the previous part owns.
            PoolGeometry.resnetStem(1, 41, 23, 45),
        };
        for (PoolGeometry g : cases) {
            for (boolean ties : new boolean[] {false, true}) {
                maxPool(g, ties);
            }
        }
    }

    private void maxPool(PoolGeometry g, boolean ties) {
        String what = "maxPool " + g + (ties ? " with ties" : "");
        int[] xd = g.xShape().dims(), yd = g.yShape().dims();
        Pair x = b.uniform(61, -1, 1, xd);
        if (ties) {
            for (long i = 0; i < x.ref().numel(); i++) {
                x.ref().setFloat(i, (float) Math.floor(1.5 * (x.ref().getFloat(i) + 1))); // 0, 1 or 2
            }
            b.mirror(x);
        }
        Pair y = b.zeros(yd);
        b.ref.maxPoolForward(g, x.ref(), y.ref());
        b.cpu.maxPoolForward(g, x.dut(), y.dut());
        b.close(what + " forward", y, 0, 0);
        Pair dy = b.normal(62, 1, yd), dx = b.normal(63, 1, xd);
        b.ref.maxPoolBackward(g, x.ref(), y.ref(), dy.ref(), dx.ref());
        b.cpu.maxPoolBackward(g, x.dut(), y.dut(), dy.dut(), dx.dut());
        b.close(what + " backward", dx, 1e-6, 1e-6);
    }

    @Test
    void globalAvgPoolMatchesRef() {
        for (int[] dims : new int[][] {{1, 1, 1, 9}, {3, 5, 7, 37}, {2, 14, 13, 64}, {1, 3, 3, 2053}}) {
            String what = "globalAvgPool " + Shape.of(dims);
            int n = dims[0], c = dims[3];
            Pair x = b.normal(64, 1, dims), y = b.zeros(n, c);
            b.ref.globalAvgPoolForward(x.ref(), y.ref());
            b.cpu.globalAvgPoolForward(x.dut(), y.dut());
            b.close(what + " forward", y, 1e-6, 1e-5);
            Pair dy = b.normal(65, 1, n, c), dx = b.normal(66, 1, dims);
            b.ref.globalAvgPoolBackward(dy.ref(), dx.ref());
            b.cpu.globalAvgPoolBackward(dy.dut(), dx.dut());
            b.close(what + " backward", dx, 1e-6, 1e-5);
        }
    }

    @Test
    void adaptiveAvgPoolMatchesRef() {
        int[][][] cases = {
            {{2, 13, 11, 19}, {2, 7, 5, 19}}, // overlapping bins (13/7, 11/5 not integers)
            {{1, 7, 7, 3}, {1, 1, 1, 3}}, // global
            {{1, 5, 4, 10}, {1, 7, 6, 10}}, // more bins than pixels: bins of one or two pixels
            {{2, 28, 28, 33}, {2, 7, 7, 33}}, // DenseCL's 7x7 grid from 28x28
        };
        for (int[][] cs : cases) {
            String what = "adaptiveAvgPool " + Shape.of(cs[0]) + " -> " + Shape.of(cs[1]);
            Pair x = b.normal(67, 1, cs[0]), y = b.zeros(cs[1]);
            b.ref.adaptiveAvgPoolForward(x.ref(), y.ref());
            b.cpu.adaptiveAvgPoolForward(x.dut(), y.dut());
            b.close(what + " forward", y, 1e-6, 1e-5);
            Pair dy = b.normal(68, 1, cs[1]), dx = b.normal(69, 1, cs[0]);
            b.ref.adaptiveAvgPoolBackward(dy.ref(), dx.ref());
            b.cpu.adaptiveAvgPoolBackward(dy.dut(), dx.dut());
            b.close(what + " backward", dx, 1e-6, 1e-5);
        }
    }
}
