package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.VsRef.Pair;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * cpu vs ref for the flat and per-channel ops: zero, fill, copy, scale, axpy, add, ReLU, bias,
 * dropout2d, channel-block copies, SGD and EMA. Sizes are odd (never a multiple of 8, so every vector loop has a tail) and
 * include one above 2 * CpuVec.GRAIN elements, so the flat loops split into several parts.
 *
 * <p>Tolerance: each of these ops is one to three float roundings per element on the cpu versus one
 * rounding of a double result on ref, so they agree to a few ulps: rtol 1e-6 (about 8 ulps of 2^-23)
 * and atol 1e-7 for results near zero after cancellation (inputs are O(1)). Column sums (bias backward)
 * add up to a few hundred terms in float, so they get rtol 1e-5.
 */
class CpuElementwiseTest {
    private static final int BIG = 70_001; // > 2 * GRAIN: several parallel parts, odd length
    private static final double ATOL = 1e-7, RTOL = 1e-6;

    private final CpuVsRef b = new CpuVsRef();

    @AfterEach
    void close() {
        b.close();
    }

    @Test
    void fillScaleAxpyAddMatchRef() {
        for (int n : new int[] {1, 13, BIG}) {
            Pair x = b.uniform(1, -2, 2, n), y = b.uniform(2, -2, 2, n), z = b.zeros(n);
            b.ref.scale(x.ref(), -1.7f);
            b.cpu.scale(x.dut(), -1.7f);
            b.close("scale n=" + n, x, ATOL, RTOL);
            b.ref.axpy(0.37f, x.ref(), y.ref());
            b.cpu.axpy(0.37f, x.dut(), y.dut());
            b.close("axpy n=" + n, y, ATOL, RTOL);
            b.ref.add(x.ref(), y.ref(), z.ref());
            b.cpu.add(x.dut(), y.dut(), z.dut());
            b.close("add n=" + n, z, ATOL, RTOL);
            b.ref.add(z.ref(), y.ref(), z.ref()); // y aliases a
            b.cpu.add(z.dut(), y.dut(), z.dut());
            b.close("add aliased n=" + n, z, ATOL, RTOL);
            b.ref.addRelu(x.ref(), y.ref(), z.ref());
            b.cpu.addRelu(x.dut(), y.dut(), z.dut());
            b.close("addRelu n=" + n, z, ATOL, RTOL);
            b.ref.addRelu(x.ref(), z.ref(), z.ref()); // y aliases b
            b.cpu.addRelu(x.dut(), z.dut(), z.dut());
            b.close("addRelu aliased n=" + n, z, ATOL, RTOL);
            b.ref.fill(z.ref(), 3.25f);
            b.cpu.fill(z.dut(), 3.25f);
            b.close("fill n=" + n, z, 0, 0);
        }
    }

    /** The fused residual join gives exactly the bits of add then reluForward, which it replaced. */
    @Test
    void addReluIsAddThenReluBitForBit() {
        for (int n : new int[] {1, 13, BIG}) {
            Pair x = b.uniform(3, -2, 2, n), y = b.uniform(4, -2, 2, n), fused = b.zeros(n), twoPass = b.zeros(n);
            b.cpu.addRelu(x.dut(), y.dut(), fused.dut());
            b.cpu.add(x.dut(), y.dut(), twoPass.dut());
            b.cpu.reluForward(twoPass.dut(), twoPass.dut());
            float[] f = new float[n], t = new float[n];
            b.cpu.download(fused.dut(), f);
            b.cpu.download(twoPass.dut(), t);
            int zeros = 0;
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(t[i]), Float.floatToRawIntBits(f[i]), "addRelu n=" + n + " at " + i);
                zeros += f[i] == 0f ? 1 : 0;
            }
            assertTrue(n < 13 || (zeros > 0 && zeros < n), "inputs of both signs: " + zeros + " of " + n + " zero");
        }
    }

    @Test
    void zeroClearsExactlyItsSliceOnTheMemsetPath() {
        // Large enough that every part clears >= CpuMemset.MIN_BYTES through memset, at an odd offset and
        // length, so part boundaries fall mid-element; the neighbours of the slice must keep their values.
        assertTrue(CpuMemset.available(), "zero: the C library's memset was not found, so this test would only"
                + " exercise MemorySegment.fill");
        int n = 4 * BIG, lo = 3, len = n - 10;
        Pair x = b.uniform(11, 1, 2, n);
        b.cpu.zero(x.dut().slice(lo, Shape.of(len)));
        for (int i = 0; i < n; i++) {
            float want = i >= lo && i < lo + len ? 0f : x.ref().getFloat(i);
            if (x.dut().getFloat(i) != want) {
                assertEquals(want, x.dut().getFloat(i), "zero of slice [" + lo + ", " + (lo + len) + ") of (" + n
                        + ") at element " + i);
            }
        }
    }

    @Test
    void zeroAndCopyHandleFloatsAndLabels() {
        Pair x = b.uniform(3, -1, 1, 3, BIG), y = b.uniform(4, -1, 1, BIG, 3);
        b.cpu.copy(x.dut(), y.dut());
        TensorAssert2.exact("copy F32 (3, " + BIG + ") -> (" + BIG + ", 3)", x.dut(), y.dut());
        b.cpu.zero(x.dut());
        b.ref.zero(x.ref());
        b.close("zero", x, 0, 0);
        Pair l = b.labels(5, 21, 255, 0.1, 1001), l2 = b.labels(6, 21, 255, 0.1, 1001);
        b.cpu.copy(l.dut(), l2.dut());
        for (int i = 0; i < 1001; i++) {
            assertEquals(l.ref().getInt(i), l2.dut().getInt(i), "copy I32 labels at " + i);
        }
    }

    @Test
    void reluForwardBackwardAccumulate() {
        for (int[] dims : new int[][] {{1, 3, 5, 7}, {2, 17, 19, 37}}) {
            Pair x = b.normal(7, 1, dims), y = b.zeros(dims);
            b.ref.reluForward(x.ref(), y.ref());
            b.cpu.reluForward(x.dut(), y.dut());
            b.close("reluForward " + Shape.of(dims), y, 0, 0);
            Pair dy = b.normal(8, 1, dims), dx = b.normal(9, 1, dims); // non-zero dx: backward accumulates
            b.ref.reluBackward(y.ref(), dy.ref(), dx.ref());
            b.cpu.reluBackward(y.dut(), dy.dut(), dx.dut());
            b.close("reluBackward " + Shape.of(dims), dx, ATOL, RTOL);
            b.cpu.fill(dx.dut(), Float.NaN); // assigned: the old dx must not be read
            b.ref.reluBackward(y.ref(), dy.ref(), dx.ref(), false);
            b.cpu.reluBackward(y.dut(), dy.dut(), dx.dut(), false);
            b.close("reluBackward assigned " + Shape.of(dims), dx, 0, 0);
            b.ref.reluForward(x.ref(), x.ref()); // in place
            b.cpu.reluForward(x.dut(), x.dut());
            b.close("reluForward in place " + Shape.of(dims), x, 0, 0);
        }
    }

    @Test
    void biasAddAndBackward() {
        for (int[] dims : new int[][] {{1, 1, 1, 3}, {3, 5, 7, 19}, {2, 37, 41, 13}, {5, 70}}) {
            int c = dims[dims.length - 1];
            Pair y = b.normal(10, 1, dims), bias = b.normal(11, 1, c);
            b.ref.biasAdd(y.ref(), bias.ref());
            b.cpu.biasAdd(y.dut(), bias.dut());
            b.close("biasAdd " + Shape.of(dims), y, ATOL, RTOL);
            Pair db = b.normal(12, 1, c);
            b.ref.biasBackward(y.ref(), db.ref());
            b.cpu.biasBackward(y.dut(), db.dut());
            // Sums of up to 3000 O(1) terms: absolute error ~ sqrt(rows) * ulp(sum); 1e-5 both ways.
            b.close("biasBackward " + Shape.of(dims), db, 1e-5, 1e-5);
        }
    }

    @Test
    void dropout2dMaskForwardBackward() {
        for (float p : new float[] {0f, 0.3f, 1f}) {
            int[] dims = {3, 5, 7, 37};
            Pair x = b.normal(13, 1, dims), y = b.zeros(dims), mask = b.zeros(3, 37);
            b.ref.dropout2dForward(x.ref(), p, 99L, mask.ref(), y.ref());
            b.cpu.dropout2dForward(x.dut(), p, 99L, mask.dut(), y.dut());
            b.close("dropout2d mask p=" + p, mask, 0, 0);
            b.close("dropout2dForward p=" + p, y, ATOL, RTOL);
            Pair dy = b.normal(14, 1, dims), dx = b.normal(15, 1, dims);
            b.ref.dropout2dBackward(mask.ref(), dy.ref(), dx.ref());
            b.cpu.dropout2dBackward(mask.dut(), dy.dut(), dx.dut());
            b.close("dropout2dBackward p=" + p, dx, ATOL, RTOL);
        }
    }

    @Test
    void copyChannelsAssignsAndAccumulatesBlocks() {
        // (3, 5, 7) rows; src 37 channels, dst 45: blocks that start off vector boundaries and end in a
        // tail, and one longer than a vector at once; untouched dst channels must keep their values.
        int[][] cases = {{0, 0, 37}, {3, 8, 21}, {17, 2, 9}, {36, 44, 1}};
        for (boolean accumulate : new boolean[] {false, true}) {
            for (int[] k : cases) {
                Pair src = b.normal(31, 1, 3, 5, 7, 37), dst = b.normal(32, 1, 3, 5, 7, 45);
                b.ref.copyChannels(src.ref(), k[0], dst.ref(), k[1], k[2], accumulate);
                b.cpu.copyChannels(src.dut(), k[0], dst.dut(), k[1], k[2], accumulate);
                b.close("copyChannels src " + k[0] + " dst " + k[1] + " count " + k[2]
                        + (accumulate ? " +=" : " ="), dst, accumulate ? ATOL : 0, accumulate ? RTOL : 0);
            }
        }
    }

    @Test
    void sgdAndEmaSeveralSteps() {
        for (int n : new int[] {5, BIG}) {
            Pair param = b.normal(16, 1, n), buf = b.zeros(n), target = b.normal(17, 1, n);
            for (int step = 0; step < 3; step++) {
                Pair grad = b.normal(18 + step, 1, n);
                b.ref.sgdStep(param.ref(), grad.ref(), buf.ref(), 0.03f, 0.9f, 1e-4f);
                b.cpu.sgdStep(param.dut(), grad.dut(), buf.dut(), 0.03f, 0.9f, 1e-4f);
                b.ref.emaUpdate(target.ref(), param.ref(), 0.99f);
                b.cpu.emaUpdate(target.dut(), param.dut(), 0.99f);
            }
            // Three chained steps: a few more roundings than one op, still within 1e-6 relative.
            b.close("sgdStep param n=" + n, param, 1e-6, 1e-6);
            b.close("sgdStep momentum buffer n=" + n, buf, 1e-6, 1e-6);
            b.close("emaUpdate n=" + n, target, 1e-6, 1e-6);
        }
    }

    /** Exact equality of two F32 host tensors of equal numel (copies must be bit-exact). */
    private static final class TensorAssert2 {
        static void exact(String what, Tensor expected, Tensor actual) {
            assertEquals(DType.F32, actual.dtype(), what);
            for (long i = 0; i < expected.numel(); i++) {
                if (Float.floatToRawIntBits(expected.getFloat(i)) != Float.floatToRawIntBits(actual.getFloat(i))) {
                    assertEquals(expected.getFloat(i), actual.getFloat(i), what + " at " + i);
                }
            }
        }
    }
}
