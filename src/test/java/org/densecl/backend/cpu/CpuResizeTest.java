package org.densecl.backend.cpu;

import org.densecl.backend.VsRef.Pair;
import org.densecl.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * cpu vs ref for bilinear resize, forward and backward, both align_corners settings, on upsampling by
 * non-integer and integer factors (the FCN's x8 logits), downsampling (where some input rows are read
 * by no output), equal sizes, a 1x1 output and a 1-pixel-wide input. The cpu backward is a gather over
 * dx rows and ref's a scatter of dy, so agreement also checks the output ranges each dx row gathers.
 *
 * <p>Tolerance. Weights agree to float rounding (cpu keeps l in float, ref in double); forward blends
 * four O(1) values: rtol 1e-5, atol 1e-6. Backward sums up to (2 * OH/H) * (2 * OW/W) = 256 weighted
 * dy values per dx element (x8), in float on the cpu: atol 1e-5, rtol 1e-5.
 */
class CpuResizeTest {
    private static final int[][][] CASES = {
        {{2, 7, 9, 21}, {2, 29, 17, 21}}, // up by non-integer factors, 21 classes
        {{1, 8, 6, 5}, {1, 64, 48, 5}}, // the FCN's x8 upsampling of logits
        {{1, 13, 11, 37}, {1, 4, 6, 37}}, // down
        {{1, 6, 5, 3}, {1, 6, 5, 3}}, // same size: a copy
        {{2, 5, 4, 3}, {2, 1, 1, 3}}, // to a single pixel
        {{1, 3, 1, 17}, {1, 7, 5, 17}}, // from a 1-pixel-wide column
        {{3, 17, 19, 16}, {3, 33, 40, 16}}, // several parallel parts, whole vectors only
    };

    private final CpuVsRef b = new CpuVsRef();

    @AfterEach
    void close() {
        b.close();
    }

    @Test
    void forwardAndBackwardMatchRef() {
        for (int[][] cs : CASES) {
            for (boolean align : new boolean[] {false, true}) {
                String what = "resizeBilinear " + Shape.of(cs[0]) + " -> " + Shape.of(cs[1]) + " alignCorners=" + align;
                Pair x = b.normal(71, 1, cs[0]), y = b.zeros(cs[1]);
                b.ref.resizeBilinearForward(x.ref(), y.ref(), align);
                b.cpu.resizeBilinearForward(x.dut(), y.dut(), align);
                b.close(what + " forward", y, 1e-6, 1e-5);
                Pair dy = b.normal(72, 1, cs[1]), dx = b.normal(73, 1, cs[0]);
                b.ref.resizeBilinearBackward(dy.ref(), dx.ref(), align);
                b.cpu.resizeBilinearBackward(dy.dut(), dx.dut(), align);
                b.close(what + " backward", dx, 1e-5, 1e-5);
            }
        }
    }
}
