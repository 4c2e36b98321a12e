package org.densecl.backend.cpu;

import static org.densecl.backend.cpu.CpuVec.F;
import static org.densecl.backend.cpu.CpuVec.L;
import static org.densecl.backend.cpu.CpuVec.f32;
import static org.densecl.backend.cpu.CpuVec.get;
import static org.densecl.backend.cpu.CpuVec.loadOr;
import static org.densecl.backend.cpu.CpuVec.maskAt;
import static org.densecl.backend.cpu.CpuVec.set;
import static org.densecl.backend.cpu.CpuVec.storeOr;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import org.densecl.backend.Check;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.tensor.Tensor;

/**
 * Bilinear resize of NHWC tensors as PyTorch's F.interpolate(mode='bilinear'), both align_corners
 * settings, forward and backward, vectorised across channels.
 *
 * <p>Each output index o along an axis reads input indices i0(o) and i1(o) = min(i0 + 1, in - 1)
 * with weights 1 - l(o) and l(o); both tables are computed once per call. i0 never decreases with o,
 * so the outputs that read input index i form one contiguous range (those with i0 in {i - 1, i}).
 * The backward pass uses that to GATHER: each dx row sums its weighted dy cells, so threads run
 * over dx rows without ever writing the same element.
 */
final class CpuResize {
    private final Parallel par;
    private final Scratch scratch;

    CpuResize(Parallel par, Scratch scratch) {
        this.par = par;
        this.scratch = scratch;
    }

    /** x (N, H, W, C), y (N, OH, OW, C). */
    void forward(Tensor x, Tensor y, boolean alignCorners) {
        // Parallel over output rows (n, oy).
        String op = "resizeBilinearForward";
        checkShapes(op, "x", x, "y", y);
        int n = x.shape().dim(0), h = x.shape().dim(1), w = x.shape().dim(2), c = x.shape().dim(3);
        int oh = y.shape().dim(1), ow = y.shape().dim(2);
        int[] ti = scratch.ints(oh + ow); // i0 per output row (OH), then per output column (OW)
        float[] tl = scratch.floats(oh + ow); // l per output row (OH), then per output column (OW)
        table(h, oh, alignCorners, ti, tl, 0);
        table(w, ow, alignCorners, ti, tl, oh);
        MemorySegment xs = x.data(), ys = y.data();
        CpuVec.range(par, (long) n * oh, 8L * ow * c, (lo, hi) -> {
            for (long row = lo; row < hi; row++) {
                int in = (int) (row / oh), oy = (int) (row % oh);
                int y0 = ti[oy], y1 = y0 < h - 1 ? y0 + 1 : y0;
                float ly = tl[oy];
                long top = ((long) in * h + y0) * w, bottom = ((long) in * h + y1) * w; // pixel indices
                for (int ox = 0; ox < ow; ox++) {
                    int x0 = ti[oh + ox], x1 = x0 < w - 1 ? x0 + 1 : x0;
                    float lx = tl[oh + ox];
                    long out = (row * ow + ox) * c;
                    if (c < L) {
                        lerpShort(xs, (top + x0) * c, (top + x1) * c, (bottom + x0) * c, (bottom + x1) * c, lx, ly,
                                ys, out, c);
                        continue;
                    }
                    for (int j = 0; j < c; j += L) {
                        VectorMask<Float> mk = maskAt(j, c);
                        FloatVector t = lerp(loadOr(xs, (top + x0) * c + j, mk), loadOr(xs, (top + x1) * c + j, mk), lx);
                        FloatVector b = lerp(loadOr(xs, (bottom + x0) * c + j, mk),
                                loadOr(xs, (bottom + x1) * c + j, mk), lx);
                        storeOr(lerp(t, b, ly), ys, out + j, mk);
                    }
                }
            }
        });
    }

    /** dx += the adjoint of forward. dy (N, OH, OW, C), dx (N, H, W, C). */
    void backward(Tensor dy, Tensor dx, boolean alignCorners) {
        // Parallel over dx rows (n, h), gathering from dy (no two threads write one dx element).
        String op = "resizeBilinearBackward";
        checkShapes(op, "dx", dx, "dy", dy);
        int n = dx.shape().dim(0), h = dx.shape().dim(1), w = dx.shape().dim(2), c = dx.shape().dim(3);
        int oh = dy.shape().dim(1), ow = dy.shape().dim(2);
        // ints: i0 per output row (OH) and column (OW), then [lo, hi) output ranges per input row (2H)
        // and per input column (2W). floats: l per output row (OH) and column (OW).
        int[] ti = scratch.ints(oh + ow + 2 * h + 2 * w);
        float[] tl = scratch.floats(oh + ow);
        int rowRanges = oh + ow, colRanges = rowRanges + 2 * h;
        table(h, oh, alignCorners, ti, tl, 0);
        table(w, ow, alignCorners, ti, tl, oh);
        ranges(ti, 0, oh, h, rowRanges);
        ranges(ti, oh, ow, w, colRanges);
        MemorySegment gs = dy.data(), dxs = dx.data();
        CpuVec.range(par, (long) n * h, 8L * ow * c, (lo, hi) -> {
            for (long row = lo; row < hi; row++) {
                int in = (int) (row / h), ih = (int) (row % h);
                int oyLo = ti[rowRanges + 2 * ih], oyHi = ti[rowRanges + 2 * ih + 1];
                for (int iw = 0; iw < w; iw++) {
                    int oxLo = ti[colRanges + 2 * iw], oxHi = ti[colRanges + 2 * iw + 1];
                    long at = (row * w + iw) * c;
                    if (c < L) {
                        gatherShort(gs, dxs, at, in, ih, iw, h, w, oh, ow, oyLo, oyHi, oxLo, oxHi, ti, tl, c);
                        continue;
                    }
                    for (int j = 0; j < c; j += L) {
                        VectorMask<Float> mk = maskAt(j, c);
                        FloatVector acc = loadOr(dxs, at + j, mk);
                        for (int oy = oyLo; oy < oyHi; oy++) {
                            float wy = weight(ti[oy], tl[oy], ih, h);
                            if (wy == 0f) {
                                continue;
                            }
                            long from = ((long) in * oh + oy) * ow;
                            for (int ox = oxLo; ox < oxHi; ox++) {
                                float wx = weight(ti[oh + ox], tl[oh + ox], iw, w);
                                if (wx != 0f) {
                                    acc = loadOr(gs, (from + ox) * c + j, mk).fma(FloatVector.broadcast(F, wy * wx), acc);
                                }
                            }
                        }
                        storeOr(acc, dxs, at + j, mk);
                    }
                }
            }
        });
    }

    // Pixels with fewer channels than a vector (a 2-class model's logits) go one float at a time, with the
    // vector loop's operations in its order, so with its bits: a masked vector per pixel cost more than the
    // pixel, and C2 left its masked loads out of line, one boxed vector and mask each.

    /** y[out ..+c) = lerp(lerp(x00, x01, lx), lerp(x10, x11, lx), ly) for the c channels at the four offsets. */
    private static void lerpShort(MemorySegment xs, long x00, long x01, long x10, long x11, float lx, float ly,
                                  MemorySegment ys, long out, int c) {
        for (int j = 0; j < c; j++) {
            float t = lerp(get(xs, x00 + j), get(xs, x01 + j), lx);
            float b = lerp(get(xs, x10 + j), get(xs, x11 + j), lx);
            set(ys, out + j, lerp(t, b, ly));
        }
    }

    /** dx[at ..+c) += the weighted dy cells that read input pixel (in, ih, iw), as the vector loop sums them. */
    private static void gatherShort(MemorySegment gs, MemorySegment dxs, long at, int in, int ih, int iw, int h, int w,
                                    int oh, int ow, int oyLo, int oyHi, int oxLo, int oxHi, int[] ti, float[] tl, int c) {
        for (int j = 0; j < c; j++) {
            float acc = get(dxs, at + j);
            for (int oy = oyLo; oy < oyHi; oy++) {
                float wy = weight(ti[oy], tl[oy], ih, h);
                if (wy == 0f) {
                    continue;
                }
                long from = ((long) in * oh + oy) * ow;
                for (int ox = oxLo; ox < oxHi; ox++) {
                    float wx = weight(ti[oh + ox], tl[oh + ox], iw, w);
                    if (wx != 0f) {
                        acc = Math.fma(get(gs, (from + ox) * c + j), wy * wx, acc);
                    }
                }
            }
            set(dxs, at + j, acc);
        }
    }

    private static float lerp(float a, float b, float l) {
        return a * (1f - l) + b * l;
    }

    /** a + l * (b - a) in PyTorch's form (1 - l) * a + l * b. */
    private static FloatVector lerp(FloatVector a, FloatVector b, float l) {
        return a.mul(1f - l).add(b.mul(l));
    }

    /** The weight with which output (i0, l) reads input index i of an axis of size in. */
    private static float weight(int i0, float l, int i, int in) {
        int i1 = i0 < in - 1 ? i0 + 1 : i0;
        return (i0 == i ? 1f - l : 0f) + (i1 == i ? l : 0f);
    }

    /**
     * i0[off + o] and l[off + o] for o in [0, out): the source coordinate is (o + 0.5) * in / out - 0.5
     * clamped at 0, or o * (in - 1) / (out - 1) with align_corners (0 when out is 1); computed in double.
     */
    private static void table(int in, int out, boolean alignCorners, int[] i0, float[] l, int off) {
        double scale = alignCorners ? (out > 1 ? (in - 1) / (double) (out - 1) : 0) : in / (double) out;
        for (int o = 0; o < out; o++) {
            double src = alignCorners ? o * scale : Math.max((o + 0.5) * scale - 0.5, 0);
            int i = Math.min((int) src, in - 1);
            i0[off + o] = i;
            l[off + o] = (float) (src - i);
        }
    }

    /**
     * For each input index i of an axis, the outputs [lo, hi) that read it: lo is the first o with
     * i0(o) >= i - 1, hi the first with i0(o) > i. Written to t[dst + 2i], t[dst + 2i + 1].
     */
    private static void ranges(int[] t, int i0Off, int out, int in, int dst) {
        int lo = 0, hi = 0;
        for (int i = 0; i < in; i++) {
            while (lo < out && t[i0Off + lo] < i - 1) {
                lo++;
            }
            while (hi < out && t[i0Off + hi] <= i) {
                hi++;
            }
            t[dst + 2 * i] = lo;
            t[dst + 2 * i + 1] = hi;
        }
    }

    /** a (N, H, W, C) and b (N, OH, OW, C): same N and C, positive sizes. */
    private static void checkShapes(String op, String an, Tensor a, String bn, Tensor b) {
        f32(op, an, a);
        f32(op, bn, b);
        Check.rank(op, an, a, 4, "(N, H, W, C)");
        Check.rank(op, bn, b, 4, "(N, OH, OW, C)");
        Check.that(a.shape().dim(0) == b.shape().dim(0) && a.shape().dim(3) == b.shape().dim(3), op,
                an + " has shape " + a.shape() + " and " + bn + " has shape " + b.shape()
                        + "; N and C must match");
        Check.that(a.numel() > 0 && b.numel() > 0, op, "empty tensor: " + an + " " + a.shape() + ", " + bn + " "
                + b.shape());
    }
}
