package org.densecl.backend.cpu;

import static org.densecl.backend.cpu.CpuVec.F;
import static org.densecl.backend.cpu.CpuVec.L;
import static org.densecl.backend.cpu.CpuVec.bound;
import static org.densecl.backend.cpu.CpuVec.f32;
import static org.densecl.backend.cpu.CpuVec.get;
import static org.densecl.backend.cpu.CpuVec.load;
import static org.densecl.backend.cpu.CpuVec.set;
import static org.densecl.backend.cpu.CpuVec.store;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import org.densecl.backend.Check;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;

/**
 * Flat elementwise kernels of the cpu backend: zero, fill, copy, scale, axpy, add and ReLU. All are
 * memory bound, so each splits the flat element range into one contiguous block per thread and runs
 * a vector main loop with a scalar tail. Per-channel kernels (bias, dropout) are in CpuChannelwise.
 */
final class CpuElementwise {
    private final Parallel par;

    CpuElementwise(Parallel par) {
        this.par = par;
    }

    /**
     * x = 0. Any dtype but F64 (labels may be zeroed too); bytes are cleared in parallel blocks, large
     * native ones by the C library's memset (non-temporal stores: see CpuMemset).
     */
    void zero(Tensor x) {
        // Parallel over flat byte ranges.
        Check.that(x.dtype() != DType.F64, "zero", "x is F64 " + x.shape() + " but the cpu backend computes in F32");
        CpuMemset.zero(par, x.data());
    }

    /** dst = src; same element count and dtype (F32 or I32). */
    void copy(Tensor src, Tensor dst) {
        // Parallel over flat byte ranges.
        Check.numel("copy", "dst", dst, src.numel());
        Check.that(src.dtype() == dst.dtype(), "copy", "src is " + src.dtype() + " but dst is " + dst.dtype());
        Check.that(src.dtype() != DType.F64, "copy", "src is F64 " + src.shape()
                + " but the cpu backend computes in F32");
        MemorySegment a = src.data(), b = dst.data();
        CpuVec.range(par, a.byteSize(), 1, (lo, hi) -> MemorySegment.copy(a, lo, b, lo, hi - lo));
    }

    /** x = value. */
    void fill(Tensor x, float value) {
        // Parallel over flat element ranges.
        f32("fill", "x", x);
        MemorySegment s = x.data();
        FloatVector v = FloatVector.broadcast(F, value);
        CpuVec.range(par, x.numel(), 1, (lo, hi) -> {
            long i = lo;
            for (long end = lo + bound(hi - lo); i < end; i += L) {
                store(v, s, i);
            }
            for (; i < hi; i++) {
                set(s, i, value);
            }
        });
    }

    /** x = alpha * x. */
    void scale(Tensor x, float alpha) {
        // Parallel over flat element ranges.
        f32("scale", "x", x);
        MemorySegment s = x.data();
        CpuVec.range(par, x.numel(), 1, (lo, hi) -> {
            long i = lo;
            for (long end = lo + bound(hi - lo); i < end; i += L) {
                store(load(s, i).mul(alpha), s, i);
            }
            for (; i < hi; i++) {
                set(s, i, alpha * get(s, i));
            }
        });
    }

    /** y += alpha * x. */
    void axpy(float alpha, Tensor x, Tensor y) {
        // Parallel over flat element ranges.
        f32("axpy", "x", x);
        f32("axpy", "y", y);
        Check.numel("axpy", "y", y, x.numel());
        MemorySegment xs = x.data(), ys = y.data();
        FloatVector va = FloatVector.broadcast(F, alpha);
        CpuVec.range(par, x.numel(), 2, (lo, hi) -> {
            long i = lo;
            for (long end = lo + bound(hi - lo); i < end; i += L) {
                store(load(xs, i).fma(va, load(ys, i)), ys, i);
            }
            for (; i < hi; i++) {
                set(ys, i, Math.fma(alpha, get(xs, i), get(ys, i)));
            }
        });
    }

    /** y = a + b; y may alias a or b (each element is read before it is written). */
    void add(Tensor a, Tensor b, Tensor y) {
        // Parallel over flat element ranges.
        f32("add", "a", a);
        f32("add", "b", b);
        f32("add", "y", y);
        Check.numel("add", "b", b, a.numel());
        Check.numel("add", "y", y, a.numel());
        MemorySegment as = a.data(), bs = b.data(), ys = y.data();
        CpuVec.range(par, a.numel(), 2, (lo, hi) -> {
            long i = lo;
            for (long end = lo + bound(hi - lo); i < end; i += L) {
                store(load(as, i).add(load(bs, i)), ys, i);
            }
            for (; i < hi; i++) {
                set(ys, i, get(as, i) + get(bs, i));
            }
        });
    }

    /** y = max(a + b, 0); y may alias a or b (each element is read before it is written). */
    void addRelu(Tensor a, Tensor b, Tensor y) {
        // Parallel over flat element ranges.
        f32("addRelu", "a", a);
        f32("addRelu", "b", b);
        f32("addRelu", "y", y);
        Check.numel("addRelu", "b", b, a.numel());
        Check.numel("addRelu", "y", y, a.numel());
        MemorySegment as = a.data(), bs = b.data(), ys = y.data();
        CpuVec.range(par, a.numel(), 2, (lo, hi) -> {
            long i = lo;
            for (long end = lo + bound(hi - lo); i < end; i += L) {
                store(load(as, i).add(load(bs, i)).max(0f), ys, i);
            }
            for (; i < hi; i++) {
                set(ys, i, Math.max(get(as, i) + get(bs, i), 0f));
            }
        });
    }

    /** y = max(x, 0); y may alias x. */
    void reluForward(Tensor x, Tensor y) {
        // Parallel over flat element ranges.
        f32("reluForward", "x", x);
        f32("reluForward", "y", y);
        Check.same("reluForward", "y", y, "x", x);
        MemorySegment xs = x.data(), ys = y.data();
        CpuVec.range(par, x.numel(), 1, (lo, hi) -> {
            long i = lo;
            for (long end = lo + bound(hi - lo); i < end; i += L) {
                store(load(xs, i).max(0f), ys, i);
            }
            for (; i < hi; i++) {
                set(ys, i, Math.max(get(xs, i), 0f));
            }
        });
    }

    /**
     * dx += dy where y > 0; not {@code accumulate}: dx = that with dx's old value taken as +0, unread
     * (the bits of a zeroed dx).
     */
    void reluBackward(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        // Parallel over flat element ranges.
        f32("reluBackward", "y", y);
        f32("reluBackward", "dy", dy);
        f32("reluBackward", "dx", dx);
        Check.same("reluBackward", "dy", dy, "y", y);
        Check.same("reluBackward", "dx", dx, "y", y);
        MemorySegment ys = y.data(), gs = dy.data(), xs = dx.data();
        CpuVec.range(par, y.numel(), 3, (lo, hi) -> {
            long i = lo;
            for (long end = lo + bound(hi - lo); i < end; i += L) {
                VectorMask<Float> on = load(ys, i).compare(VectorOperators.GT, 0f);
                FloatVector old = accumulate ? load(xs, i) : FloatVector.zero(F);
                store(old.add(load(gs, i), on), xs, i);
            }
            for (; i < hi; i++) {
                float old = accumulate ? get(xs, i) : 0f;
                set(xs, i, get(ys, i) > 0f ? old + get(gs, i) : old);
            }
        });
    }
}
