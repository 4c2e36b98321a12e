package org.densecl.backend.cpu;

import static org.densecl.backend.cpu.CpuVec.F;
import static org.densecl.backend.cpu.CpuVec.L;
import static org.densecl.backend.cpu.CpuVec.f32;
import static org.densecl.backend.cpu.CpuVec.loadOr;
import static org.densecl.backend.cpu.CpuVec.maskAt;
import static org.densecl.backend.cpu.CpuVec.storeOr;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import org.densecl.backend.Check;
import org.densecl.backend.PoolGeometry;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Pooling over NHWC tensors: max pool, global average pool and adaptive average pool, forward and
 * backward. Every kernel vectorises across channels (contiguous in NHWC). Backward kernels that
 * scatter into overlapping windows run parallel over (sample, channel block), so no two threads
 * touch the same dx element; the others gather and run parallel over dx rows.
 */
final class CpuPooling {
    private final Parallel par;
    private final Scratch scratch = new Scratch(); // max pool backward's winner rings

    CpuPooling(Parallel par) {
        this.par = par;
    }

    /** Max over each window, padding as -infinity. x (N, H, W, C), y (N, P, Q, C). */
    void maxForward(PoolGeometry g, Tensor x, Tensor y) {
        // Parallel over output rows (n, p).
        String op = "maxPoolForward";
        f32(op, "x", x);
        f32(op, "y", y);
        Check.shape(op, "x", x, g.xShape());
        Check.shape(op, "y", y, g.yShape());
        int h = g.h(), w = g.w(), c = g.c(), p = g.p(), q = g.q();
        MemorySegment xs = x.data(), ys = y.data();
        CpuVec.range(par, (long) g.n() * p, (long) q * c * g.r() * g.s(), (lo, hi) -> {
            for (long row = lo; row < hi; row++) {
                maxRow(g, xs, ys, row);
            }
        });
    }

    /**
     * One output row (n, p) of the max pool: full vectors without a tail mask, the masked tail apart. A
     * small method of its own, so the JIT compiles it after a few calls: the pool runs once per ResNet step,
     * too rarely for a larger method to be compiled within a benchmark's warm-up steps.
     */
    private static void maxRow(PoolGeometry g, MemorySegment xs, MemorySegment ys, long row) {
        int h = g.h(), w = g.w(), c = g.c(), p = g.p(), q = g.q();
        int n = (int) (row / p), h0 = (int) (row % p) * g.stride() - g.pad();
        int hLo = Math.max(0, h0), hHi = Math.min(h, h0 + g.r());
        int full = c - c % L;
        for (int oq = 0; oq < q; oq++) {
            int w0 = oq * g.stride() - g.pad();
            int wLo = Math.max(0, w0), wHi = Math.min(w, w0 + g.s());
            long out = (row * q + oq) * c;
            for (int j = 0; j < full; j += L) {
                FloatVector best = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
                for (int ih = hLo; ih < hHi; ih++) {
                    long base = ((long) n * h + ih) * w * c + j;
                    for (int iw = wLo; iw < wHi; iw++) {
                        best = best.max(CpuVec.load(xs, base + (long) iw * c));
                    }
                }
                CpuVec.store(best, ys, out + j);
            }
            if (full < c) {
                VectorMask<Float> mk = maskAt(full, c);
                FloatVector best = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
                for (int ih = hLo; ih < hHi; ih++) {
                    for (int iw = wLo; iw < wHi; iw++) {
                        best = best.max(loadOr(xs, (((long) n * h + ih) * w + iw) * c + full, mk));
                    }
                }
                storeOr(best, ys, out + full, mk);
            }
        }
    }

    /**
     * dx += dy at the first window element (row-major) equal to the window's max y, as a gather: each dx
     * element is read and written once, adding dy from the (at most ceil(R/stride) x ceil(S/stride))
     * windows that cover it, in (p, q) order, where that window's winner is this element.
     *
     * <p>A window's winner is its window-local index k = kh * S + kw, found per channel lane by one pass
     * over the window in reverse order (so the first maximum wins). Each part keeps the winners of the
     * last ceil(R/stride) output rows in a small ring (they stay in L1/L2), computing an output row when
     * its first dx row needs it, so windows are searched about once. Not a scatter (search each window,
     * read-modify-write dx at the winner): that branches on every lane mask and touches a dx line once per
     * covering window.
     */
    void maxBackward(PoolGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        // Parallel over contiguous ranges of dx rows (n, h): each dx element belongs to one part.
        String op = "maxPoolBackward";
        f32(op, "x", x);
        f32(op, "y", y);
        f32(op, "dy", dy);
        f32(op, "dx", dx);
        Check.shape(op, "x", x, g.xShape());
        Check.shape(op, "y", y, g.yShape());
        Check.shape(op, "dy", dy, g.yShape());
        Check.shape(op, "dx", dx, g.xShape());
        long rows = (long) g.n() * g.h();
        int cp = (g.c() + L - 1) / L * L;
        int ringRows = (g.r() + g.stride() - 1) / g.stride();
        // Per part: ringRows output rows of winners (ringRows, Q, cp), padded to whole cache lines.
        int ring = (ringRows * g.q() * cp + 15) / 16 * 16;
        int parts = CpuVec.parts(par, rows, (long) g.w() * g.c() * 4);
        float[] winners = scratch.floats(parts * ring);
        MemorySegment xs = x.data(), ys = y.data(), gs = dy.data(), dxs = dx.data();
        par.forEach(parts, part -> maxBackwardRows(g, xs, ys, gs, dxs, rows * part / parts,
                rows * (part + 1) / parts, winners, part * ring, ringRows));
    }

    /** dx rows [lo, hi) of the flat (n, h) row index; winners[off, off + ringRows * Q * cp) is this part's. */
    private static void maxBackwardRows(PoolGeometry g, MemorySegment xs, MemorySegment ys, MemorySegment gs,
                                        MemorySegment dxs, long lo, long hi, float[] winners, int off,
                                        int ringRows) {
        int h = g.h(), w = g.w(), c = g.c(), p = g.p(), q = g.q(), st = g.stride(), pad = g.pad();
        int cp = (c + L - 1) / L * L;
        int n = -1, computed = 0; // sample of the ring's rows; last output row computed for it
        for (long row = lo; row < hi; row++) {
            int in = (int) (row / h), ih = (int) (row % h);
            // Output rows whose window covers input row ih: oh * st - pad <= ih <= oh * st - pad + R - 1.
            int ohLo = Math.max(0, Math.floorDiv(ih + pad - g.r(), st) + 1), ohHi = Math.min(p - 1, Math.floorDiv(ih + pad, st));
            if (in != n) {
                n = in;
                computed = ohLo - 1;
            }
            for (; computed < ohHi; ) {
                computed++;
                winnerRow(g, xs, ys, n, computed, winners, off + (computed % ringRows) * q * cp);
            }
            for (int iw = 0; iw < w; iw++) {
                int owLo = Math.max(0, Math.floorDiv(iw + pad - g.s(), st) + 1), owHi = Math.min(q - 1, Math.floorDiv(iw + pad, st));
                long at = (row * w + iw) * c;
                // Window by window in (p, q) order, so each dx element sums in the same order as the scatter
                // form; the dx vector row stays in L1 across its few windows.
                for (int oh = ohLo; oh <= ohHi; oh++) {
                    int kh = ih - (oh * st - pad);
                    int ringRow = off + (oh % ringRows) * q * cp;
                    long out = (((long) n * p + oh) * q) * c;
                    for (int ow = owLo; ow <= owHi; ow++) {
                        float k = kh * g.s() + iw - (ow * st - pad);
                        addWhereWinner(dxs, at, gs, out + (long) ow * c, winners, ringRow + ow * cp, k, c);
                    }
                }
            }
        }
    }

    /** dx[at + j] += dy[from + j] for the channels j whose winner (winners[win + j]) is k. */
    private static void addWhereWinner(MemorySegment dxs, long at, MemorySegment gs, long from, float[] winners,
                                       int win, float k, int c) {
        int j = 0;
        for (int full = c - c % L; j < full; j += L) {
            VectorMask<Float> mine = FloatVector.fromArray(F, winners, win + j).compare(VectorOperators.EQ, k);
            CpuVec.store(CpuVec.load(dxs, at + j).add(CpuVec.load(gs, from + j), mine), dxs, at + j);
        }
        if (j < c) {
            VectorMask<Float> mk = maskAt(j, c);
            VectorMask<Float> mine = FloatVector.fromArray(F, winners, win + j).compare(VectorOperators.EQ, k).and(mk);
            CpuVec.store(CpuVec.load(dxs, at + j, mk).add(CpuVec.load(gs, from + j, mk), mine), dxs, at + j, mk);
        }
    }

    /**
     * Winners of output row (n, oh): for each (ow, channel) the window-local index kh * S + kw of the
     * first element equal to y, or -1 where none is (y not this x's max, or NaN). Into dst (Q, cp).
     */
    private static void winnerRow(PoolGeometry g, MemorySegment xs, MemorySegment ys, int n, int oh, float[] dst,
                                  int dstOff) {
        int h = g.h(), w = g.w(), c = g.c(), q = g.q(), st = g.stride(), pad = g.pad();
        int cp = (c + L - 1) / L * L;
        int h0 = oh * st - pad, hLo = Math.max(0, h0), hHi = Math.min(h, h0 + g.r());
        for (int ow = 0; ow < q; ow++) {
            int w0 = ow * st - pad, wLo = Math.max(0, w0), wHi = Math.min(w, w0 + g.s());
            long out = (((long) n * g.p() + oh) * q + ow) * c;
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> mk = maskAt(j, c);
                FloatVector max = loadOr(ys, out + j, mk);
                FloatVector win = FloatVector.broadcast(F, -1f);
                for (int ih = hHi - 1; ih >= hLo; ih--) {
                    long base = ((long) n * h + ih) * w * c + j;
                    for (int iw = wHi - 1; iw >= wLo; iw--) {
                        VectorMask<Float> hit = loadOr(xs, base + (long) iw * c, mk).compare(VectorOperators.EQ, max);
                        win = win.blend((float) ((ih - h0) * g.s() + iw - w0), hit);
                    }
                }
                win.intoArray(dst, dstOff + ow * cp + j);
            }
        }
    }

    /** y[n, c] = mean over (h, w) of x[n, h, w, c]. x (N, H, W, C), y (N, C). */
    void globalAvgForward(Tensor x, Tensor y) {
        // Parallel over (n, channel block).
        String op = "globalAvgPoolForward";
        f32(op, "x", x);
        f32(op, "y", y);
        Check.rank(op, "x", x, 4, "(N, H, W, C)");
        int n = x.shape().dim(0), c = x.shape().dim(3);
        int hw = x.shape().dim(1) * x.shape().dim(2);
        Check.shape(op, "y", y, Shape.of(n, c));
        int blocks = CpuVec.channelBlocks(par, n, c);
        MemorySegment xs = x.data(), ys = y.data();
        par.forEach(n * blocks, part -> {
            int in = part / blocks, b = part % blocks;
            int cLo = CpuVec.blockStart(b, blocks, c), cHi = CpuVec.blockStart(b + 1, blocks, c);
            for (int j = cLo; j < cHi; j += L) {
                VectorMask<Float> mk = maskAt(j, cHi);
                // Two-level float sum (blocks of 64 pixels) keeps the rounding error small for 56x56 maps.
                FloatVector total = FloatVector.zero(F);
                for (int s0 = 0; s0 < hw; s0 += 64) {
                    FloatVector sum = FloatVector.zero(F);
                    for (int s = s0, s1 = Math.min(hw, s0 + 64); s < s1; s++) {
                        sum = sum.add(loadOr(xs, ((long) in * hw + s) * c + j, mk));
                    }
                    total = total.add(sum);
                }
                storeOr(total.div(hw), ys, (long) in * c + j, mk);
            }
        });
    }

    /** dx[n, h, w, c] += dy[n, c] / (H * W). dy (N, C), dx (N, H, W, C). */
    void globalAvgBackward(Tensor dy, Tensor dx) {
        // Parallel over dx rows (n, h, w).
        String op = "globalAvgPoolBackward";
        f32(op, "dy", dy);
        f32(op, "dx", dx);
        Check.rank(op, "dx", dx, 4, "(N, H, W, C)");
        int c = dx.shape().dim(3), hw = dx.shape().dim(1) * dx.shape().dim(2);
        Check.shape(op, "dy", dy, Shape.of(dx.shape().dim(0), c));
        MemorySegment gs = dy.data(), dxs = dx.data();
        CpuVec.range(par, dx.numel() / c, 2L * c, (lo, hi) -> {
            for (long r = lo; r < hi; r++) {
                long at = r * c, from = (r / hw) * c;
                for (int j = 0; j < c; j += L) {
                    VectorMask<Float> mk = maskAt(j, c);
                    storeOr(loadOr(dxs, at + j, mk).add(loadOr(gs, from + j, mk).div(hw)), dxs, at + j, mk);
                }
            }
        });
    }

    /**
     * PyTorch's adaptive average pool: cell (i, j) averages rows [floor(i*H/P), ceil((i+1)*H/P)) and
     * the matching columns. x (N, H, W, C), y (N, P, Q, C).
     */
    void adaptiveAvgForward(Tensor x, Tensor y) {
        // Parallel over output rows (n, i).
        String op = "adaptiveAvgPoolForward";
        f32(op, "x", x);
        f32(op, "y", y);
        Check.rank(op, "x", x, 4, "(N, H, W, C)");
        Check.rank(op, "y", y, 4, "(N, P, Q, C)");
        int n = x.shape().dim(0), h = x.shape().dim(1), w = x.shape().dim(2), c = x.shape().dim(3);
        int p = y.shape().dim(1), q = y.shape().dim(2);
        Check.that(y.shape().dim(0) == n && y.shape().dim(3) == c && p > 0 && q > 0, op,
                "y has shape " + y.shape() + " but (" + n + ", P, Q, " + c + ") is required for x " + x.shape());
        MemorySegment xs = x.data(), ys = y.data();
        CpuVec.range(par, (long) n * p, (long) w * c * (h / p + 1), (lo, hi) -> {
            for (long row = lo; row < hi; row++) {
                int in = (int) (row / p), i = (int) (row % p);
                int hs = start(i, h, p), he = end(i, h, p);
                for (int oj = 0; oj < q; oj++) {
                    int ws = start(oj, w, q), we = end(oj, w, q);
                    int count = (he - hs) * (we - ws);
                    long out = (row * q + oj) * c;
                    for (int j = 0; j < c; j += L) {
                        VectorMask<Float> mk = maskAt(j, c);
                        FloatVector sum = FloatVector.zero(F);
                        for (int ih = hs; ih < he; ih++) {
                            for (int iw = ws; iw < we; iw++) {
                                sum = sum.add(loadOr(xs, (((long) in * h + ih) * w + iw) * c + j, mk));
                            }
                        }
                        storeOr(sum.div(count), ys, out + j, mk);
                    }
                }
            }
        });
    }

    /**
     * dx += the adjoint of the adaptive average pool, as a gather: input row h lies in output rows
     * i in [floor(h*P/H), ceil((h+1)*P/H) - 1] (the same for columns), so each dx element sums
     * dy / count over those cells and threads never share a dx element.
     */
    void adaptiveAvgBackward(Tensor dy, Tensor dx) {
        // Parallel over dx rows (n, h).
        String op = "adaptiveAvgPoolBackward";
        f32(op, "dy", dy);
        f32(op, "dx", dx);
        Check.rank(op, "dx", dx, 4, "(N, H, W, C)");
        Check.rank(op, "dy", dy, 4, "(N, P, Q, C)");
        int n = dx.shape().dim(0), h = dx.shape().dim(1), w = dx.shape().dim(2), c = dx.shape().dim(3);
        int p = dy.shape().dim(1), q = dy.shape().dim(2);
        Check.that(dy.shape().dim(0) == n && dy.shape().dim(3) == c && p > 0 && q > 0, op,
                "dy has shape " + dy.shape() + " but (" + n + ", P, Q, " + c + ") is required for dx " + dx.shape());
        MemorySegment gs = dy.data(), dxs = dx.data();
        CpuVec.range(par, (long) n * h, (long) w * c * (p / h + 2) * (q / w + 2), (lo, hi) -> {
            for (long row = lo; row < hi; row++) {
                int in = (int) (row / h), ih = (int) (row % h);
                int iLo = (int) ((long) ih * p / h), iHi = (int) (((long) (ih + 1) * p + h - 1) / h) - 1;
                for (int iw = 0; iw < w; iw++) {
                    int jLo = (int) ((long) iw * q / w), jHi = (int) (((long) (iw + 1) * q + w - 1) / w) - 1;
                    long at = (row * w + iw) * c;
                    for (int j = 0; j < c; j += L) {
                        VectorMask<Float> mk = maskAt(j, c);
                        FloatVector acc = loadOr(dxs, at + j, mk);
                        for (int i = iLo; i <= iHi; i++) {
                            int rows = end(i, h, p) - start(i, h, p);
                            for (int oj = jLo; oj <= jHi; oj++) {
                                int count = rows * (end(oj, w, q) - start(oj, w, q));
                                long from = (((long) in * p + i) * q + oj) * c + j;
                                acc = acc.add(loadOr(gs, from, mk).div(count));
                            }
                        }
                        storeOr(acc, dxs, at + j, mk);
                    }
                }
            }
        });
    }

    /** First input index of adaptive cell i: floor(i * in / out). */
    private static int start(int i, int in, int out) {
        return (int) ((long) i * in / out);
    }

    /** One past the last input index of adaptive cell i: ceil((i + 1) * in / out). */
    private static int end(int i, int in, int out) {
        return (int) (((long) (i + 1) * in + out - 1) / out);
    }
}
