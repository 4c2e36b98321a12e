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
import org.densecl.backend.Check;
import org.densecl.backend.DropoutMask;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Per-channel kernels over a tensor seen as rows of C channels (M, C): bias add and its backward
 * (column sums), channel dropout, and copies of a block of channels between two such tensors. Channels are contiguous, so every kernel vectorises across C
 * with a masked last vector, and parallelises over rows.
 */
final class CpuChannelwise {
    /**
     * Rows summed in float before the block sum joins the running total: two-level summation keeps the
     * float rounding error near (BLOCK + M / BLOCK) ulps instead of M ulps for a column of M rows.
     */
    private static final int BLOCK = 64;

    private final Parallel par;
    private final Scratch scratch;

    CpuChannelwise(Parallel par, Scratch scratch) {
        this.par = par;
        this.scratch = scratch;
    }

    /** y[m, c] += b[c]. y (M, C), b (C). */
    void biasAdd(Tensor y, Tensor b) {
        // Parallel over rows m.
        f32("biasAdd", "y", y);
        f32("biasAdd", "b", b);
        Check.rank("biasAdd", "b", b, 1, "(C)");
        int c = b.shape().dim(0);
        Check.that(y.shape().rank() >= 1 && y.shape().last() == c, "biasAdd",
                "y has shape " + y.shape() + " but its last dimension must be b's " + c + " channels");
        MemorySegment ys = y.data(), bs = b.data();
        long rows = y.numel() / Math.max(1, c);
        CpuVec.range(par, rows, c, (lo, hi) -> {
            for (long r = lo; r < hi; r++) {
                long row = r * c;
                for (int j = 0; j < c; j += L) {
                    VectorMask<Float> m = maskAt(j, c);
                    storeOr(loadOr(ys, row + j, m).add(loadOr(bs, j, m)), ys, row + j, m);
                }
            }
        });
    }

    /** db[c] += sum over m of dy[m, c]. dy (M, C), db (C). */
    void biasBackward(Tensor dy, Tensor db) {
        // Parallel over row ranges; each part sums its rows into its own partial row, then the calling
        // thread adds the partial rows (in double) into db.
        f32("biasBackward", "dy", dy);
        f32("biasBackward", "db", db);
        Check.rank("biasBackward", "db", db, 1, "(C)");
        int c = db.shape().dim(0);
        Check.that(dy.shape().rank() >= 1 && dy.shape().last() == c, "biasBackward",
                "dy has shape " + dy.shape() + " but its last dimension must be db's " + c + " channels");
        long rows = dy.numel() / Math.max(1, c);
        int parts = CpuVec.parts(par, rows, c);
        int cp = (c + L - 1) / L * L; // partial rows padded to whole vectors
        float[] partial = scratch.floats(parts * cp); // (parts, cp)
        MemorySegment gs = dy.data(), bs = db.data();
        par.forEach(parts, p -> columnSums(gs, rows * p / parts, rows * (p + 1) / parts, c, partial, p * cp));
        for (int j = 0; j < c; j++) {
            double s = 0;
            for (int p = 0; p < parts; p++) {
                s += partial[p * cp + j];
            }
            CpuVec.set(bs, j, (float) (CpuVec.get(bs, j) + s));
        }
    }

    /** out[off + j] = sum over rows [lo, hi) of s[r, j], j < c; out is padded to whole vectors. */
    private static void columnSums(MemorySegment s, long lo, long hi, int c, float[] out, int off) {
        for (int j = 0; j < c; j += L) {
            FloatVector.zero(F).intoArray(out, off + j);
        }
        for (long r0 = lo; r0 < hi; r0 += BLOCK) {
            long r1 = Math.min(hi, r0 + BLOCK);
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> m = maskAt(j, c);
                FloatVector sum = FloatVector.zero(F);
                for (long r = r0; r < r1; r++) {
                    sum = sum.add(loadOr(s, r * c + j, m));
                }
                FloatVector.fromArray(F, out, off + j).add(sum).intoArray(out, off + j);
            }
        }
    }

    /**
     * Channel dropout: mask[n, c] = DropoutMask.scale(seed, n, c, p), y = x * mask[n, c].
     * x, y (N, H, W, C), mask (N, C).
     */
    void dropout2dForward(Tensor x, float p, long seed, Tensor mask, Tensor y) {
        // The mask (N*C hashes) is computed by the calling thread; the multiply is parallel over rows
        // (n, h, w).
        String op = "dropout2dForward";
        f32(op, "x", x);
        f32(op, "mask", mask);
        f32(op, "y", y);
        Check.rank(op, "x", x, 4, "(N, H, W, C)");
        Check.same(op, "y", y, "x", x);
        Check.that(p >= 0f && p <= 1f, op, "p = " + p + " must be in [0, 1]");
        int n = x.shape().dim(0), c = x.shape().dim(3);
        Check.shape(op, "mask", mask, Shape.of(n, c));
        MemorySegment ms = mask.data();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                CpuVec.set(ms, (long) i * c + j, DropoutMask.scale(seed, i, j, p));
            }
        }
        scaleByMask(mask, x, y, false);
    }

    /** dx[n, h, w, c] += dy[n, h, w, c] * mask[n, c]. */
    void dropout2dBackward(Tensor mask, Tensor dy, Tensor dx) {
        // Parallel over rows (n, h, w), in scaleByMask.
        String op = "dropout2dBackward";
        f32(op, "mask", mask);
        f32(op, "dy", dy);
        f32(op, "dx", dx);
        Check.rank(op, "dy", dy, 4, "(N, H, W, C)");
        Check.same(op, "dx", dx, "dy", dy);
        Check.shape(op, "mask", mask, Shape.of(dy.shape().dim(0), dy.shape().dim(3)));
        scaleByMask(mask, dy, dx, true);
    }

    /** dst[m, dstChannel + j] = (or += when accumulate) src[m, srcChannel + j], j < count. */
    void copyChannels(Tensor src, int srcChannel, Tensor dst, int dstChannel, int count, boolean accumulate) {
        // Parallel over rows m. Assigning is one bulk copy per row (the rows' blocks are contiguous in both
        // tensors, only the strides differ); accumulating is a vector add with a masked last vector.
        String op = "copyChannels";
        f32(op, "src", src);
        f32(op, "dst", dst);
        long rows = Check.channelBlock(op, src, srcChannel, dst, dstChannel, count);
        int cs = src.shape().last(), cd = dst.shape().last();
        MemorySegment ss = src.data(), ds = dst.data();
        CpuVec.range(par, rows, count, (lo, hi) -> {
            for (long r = lo; r < hi; r++) {
                long s0 = r * cs + srcChannel, d0 = r * cd + dstChannel;
                if (!accumulate) {
                    MemorySegment.copy(ss, s0 << 2, ds, d0 << 2, (long) count << 2);
                    continue;
                }
                for (int j = 0; j < count; j += L) {
                    VectorMask<Float> m = maskAt(j, count);
                    storeOr(loadOr(ds, d0 + j, m).add(loadOr(ss, s0 + j, m)), ds, d0 + j, m);
                }
            }
        });
    }

    /** out = in * mask[n, :] row by row, or out += that when accumulate. in, out (N, H, W, C). */
    private void scaleByMask(Tensor mask, Tensor in, Tensor out, boolean accumulate) {
        // Parallel over rows (n, h, w).
        int c = in.shape().dim(3);
        long hw = (long) in.shape().dim(1) * in.shape().dim(2);
        long rows = in.numel() / Math.max(1, c);
        MemorySegment ms = mask.data(), is = in.data(), os = out.data();
        CpuVec.range(par, rows, 2L * c, (lo, hi) -> {
            for (long r = lo; r < hi; r++) {
                long row = r * c, maskRow = (r / hw) * c;
                for (int j = 0; j < c; j += L) {
                    VectorMask<Float> m = maskAt(j, c);
                    FloatVector v = loadOr(is, row + j, m).mul(loadOr(ms, maskRow + j, m));
                    if (accumulate) {
                        v = v.add(loadOr(os, row + j, m));
                    }
                    storeOr(v, os, row + j, m);
                }
            }
        });
    }
}
