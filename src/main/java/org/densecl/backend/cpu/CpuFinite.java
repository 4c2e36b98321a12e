package org.densecl.backend.cpu;

import static org.densecl.backend.cpu.CpuVec.L;
import static org.densecl.backend.cpu.CpuVec.bound;
import static org.densecl.backend.cpu.CpuVec.f32;
import static org.densecl.backend.cpu.CpuVec.get;
import static org.densecl.backend.cpu.CpuVec.load;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.VectorOperators;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.tensor.Tensor;

/**
 * The cpu backend's non-finite count: the trainer's divergence check over every gradient each step, so
 * it is one memory-bound pass, a vector IS_FINITE test per lane group and a scalar tail, one contiguous
 * block per thread. Partial counts go to a per-part array made once (parts never exceed the threads), so
 * a call allocates nothing.
 */
final class CpuFinite {
    private final Parallel par;
    private final long[] partial; // (threads) non-finite count of each part

    CpuFinite(Parallel par) {
        this.par = par;
        this.partial = new long[par.threads()];
    }

    long countNonFinite(Tensor x) {
        // Parallel over flat element ranges; partial sums are exact integers, so the order is irrelevant.
        f32("countNonFinite", "x", x);
        MemorySegment s = x.data();
        long n = x.numel();
        int parts = CpuVec.parts(par, n, 1);
        par.forEach(parts, p -> {
            long lo = n * p / parts, hi = n * (p + 1) / parts, count = 0, i = lo;
            for (long end = lo + bound(hi - lo); i < end; i += L) {
                count += L - load(s, i).test(VectorOperators.IS_FINITE).trueCount();
            }
            for (; i < hi; i++) {
                count += Float.isFinite(get(s, i)) ? 0 : 1;
            }
            partial[p] = count;
        });
        long total = 0;
        for (int p = 0; p < parts; p++) {
            total += partial[p];
        }
        return total;
    }
}
