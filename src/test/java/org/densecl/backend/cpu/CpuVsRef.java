package org.densecl.backend.cpu;

import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.densecl.testing.TensorAssert;

/**
 * A cpu backend and the ref backend side by side, for tests that run one op on both with identical
 * F32 inputs and compare. The cpu backend uses 4 threads even on a 2-core machine so that the
 * parallel splits (several parts, part boundaries, per-part partial sums) are exercised; tests whose
 * sizes exceed a few CpuVec.GRAIN of work get more than one part.
 */
final class CpuVsRef implements AutoCloseable {
    final RefBackend ref = new RefBackend();
    final CpuBackend cpu = new CpuBackend(4, "vector");

    /** The same tensor on both backends. */
    record Pair(Tensor ref, Tensor cpu) {}

    /** Zero-filled F32 pair. */
    Pair zeros(int... dims) {
        return new Pair(ref.allocate(Shape.of(dims)), cpu.allocate(Shape.of(dims)));
    }

    /** Uniform in [lo, hi) on both, from one seed. */
    Pair uniform(long seed, double lo, double hi, int... dims) {
        Pair p = zeros(dims);
        Rand.uniform(p.ref(), seed, lo, hi);
        mirror(p);
        return p;
    }

    /** Normal(0, std) on both. */
    Pair normal(long seed, double std, int... dims) {
        Pair p = zeros(dims);
        Rand.normal(p.ref(), seed, std);
        mirror(p);
        return p;
    }

    /** I32 labels in [0, bound), about {@code ignoreFraction} of them {@code ignore}, on both. */
    Pair labels(long seed, int bound, int ignore, double ignoreFraction, int m) {
        Pair p = new Pair(ref.allocate(DType.I32, Shape.of(m)), cpu.allocate(DType.I32, Shape.of(m)));
        Rand.labels(p.ref(), seed, bound, ignore, ignoreFraction);
        for (long i = 0; i < m; i++) {
            p.cpu().setInt(i, p.ref().getInt(i));
        }
        return p;
    }

    /** Copies the ref tensor's values into the cpu one (after editing the ref tensor by hand). */
    static void mirror(Pair p) {
        for (long i = 0; i < p.ref().numel(); i++) {
            p.cpu().setFloat(i, p.ref().getFloat(i));
        }
    }

    /** |cpu - ref| <= atol + rtol * |ref| element by element; the message names {@code what}. */
    static void close(String what, Pair p, double atol, double rtol) {
        if (Boolean.getBoolean("densecl.test.printDiffs")) {
            printDiffs(what, p, atol, rtol);
        }
        TensorAssert.close(what, p.ref(), p.cpu(), atol, rtol);
    }

    /**
     * With -Ddensecl.test.printDiffs=true: the largest |cpu - ref| and the smallest atol (given rtol)
     * that would pass, which is how the tolerances in these tests were chosen (with a margin).
     */
    private static void printDiffs(String what, Pair p, double atol, double rtol) {
        double maxDiff = 0, neededAtol = 0;
        for (long i = 0; i < p.ref().numel(); i++) {
            double e = p.ref().get(i), diff = Math.abs(e - p.cpu().get(i));
            maxDiff = Math.max(maxDiff, diff);
            neededAtol = Math.max(neededAtol, diff - rtol * Math.abs(e));
        }
        System.out.printf("DIFF %-70s max|diff| %.2e  needed atol %.2e (given %.1e, rtol %.1e)%n", what, maxDiff,
                neededAtol, atol, rtol);
    }

    @Override
    public void close() {
        cpu.close();
        ref.close();
    }
}
