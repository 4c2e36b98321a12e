package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.densecl.backend.VsRef.Pair;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
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
        {{2, 16, 16, 2}, {2, 128, 128, 2}}, // the 2-class FCN's logits, x8: channels one float at a time
    };

    private final CpuVsRef b = new CpuVsRef();

    @AfterEach
    void close() {
        b.close();
    }

    /**
     * Pixels with fewer channels than a vector go one float at a time; they must give the bits the vector loop
     * gives the same channels as the masked tail of a wider tensor (channels do not mix in a resize).
     */
    @Test
    void shortPixelsHaveTheBitsOfTheVectorLoopsTail() {
        int c = 2, wide = CpuVec.L + c;
        for (boolean align : new boolean[] {false, true}) {
            Pair x = b.normal(81, 1, 2, 5, 7, wide), y = b.zeros(2, 19, 11, wide);
            Pair xs = b.zeros(2, 5, 7, c), ys = b.zeros(2, 19, 11, c);
            b.cpu.copyChannels(x.dut(), CpuVec.L, xs.dut(), 0, c, false);
            b.cpu.resizeBilinearForward(x.dut(), y.dut(), align);
            b.cpu.resizeBilinearForward(xs.dut(), ys.dut(), align);
            assertTailBits("forward alignCorners=" + align, y.dut(), ys.dut(), c);

            Pair dy = b.normal(82, 1, 2, 19, 11, wide), dx = b.normal(83, 1, 2, 5, 7, wide);
            Pair dys = b.zeros(2, 19, 11, c), dxs = b.zeros(2, 5, 7, c);
            b.cpu.copyChannels(dy.dut(), CpuVec.L, dys.dut(), 0, c, false);
            b.cpu.copyChannels(dx.dut(), CpuVec.L, dxs.dut(), 0, c, false);
            b.cpu.resizeBilinearBackward(dy.dut(), dx.dut(), align);
            b.cpu.resizeBilinearBackward(dys.dut(), dxs.dut(), align);
            assertTailBits("backward alignCorners=" + align, dx.dut(), dxs.dut(), c);
        }
    }

    // The last c channels of every pixel of `wide` against every pixel of `narrow`, bit for bit.
    private void assertTailBits(String what, Tensor wide, Tensor narrow, int c) {
        float[] w = new float[(int) wide.numel()], n = new float[(int) narrow.numel()];
        b.cpu.download(wide, w);
        b.cpu.download(narrow, n);
        int wc = (int) (wide.numel() / (narrow.numel() / c));
        for (int px = 0; px < n.length / c; px++) {
            for (int j = 0; j < c; j++) {
                float vec = w[px * wc + wc - c + j], one = n[px * c + j];
                assertEquals(Float.floatToRawIntBits(vec), Float.floatToRawIntBits(one),
                        what + ": pixel " + px + " channel " + j + ": vector tail " + vec + ", one at a time " + one);
            }
        }
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
