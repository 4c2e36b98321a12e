package org.densecl.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.backend.cpu.simd.Lanes;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;

/**
 * What every CPU kernel shares: the float species (chosen once), element-indexed vector loads and
 * stores on tensor segments, the F32 check and the rule that decides how many parallel parts a loop
 * gets. Not a kernel itself.
 *
 * <p>The species is {@link Lanes#FLOATS}, the one every cpu kernel uses (the CPU's preferred width unless
 * {@code densecl.vectorBits} names another).
 */
final class CpuVec {
    private CpuVec() {}

    static final VectorSpecies<Float> F = Lanes.FLOATS;
    /** Lanes per vector. */
    static final int L = F.length();
    /** Tensors are little-endian (see Tensor); on x86 this costs nothing. */
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);

    /**
     * Work (in element-operations) below which a loop is not worth handing to another thread: about
     * ten microseconds of streaming, comparable to one thread-pool hand-off.
     */
    static final long GRAIN = 1L << 15;

    // e^x = 2^n * e^r with n = round(x / ln 2) and |r| <= ln(2) / 2 (r = x - n ln 2 in two fmas, ln 2 split
    // in a short high part and a correction, Cephes style), e^r = 1 + r + r^2 q(r). q is cubic: the
    // minimax fit of the relative error of e^r on |r| <= ln(2) / 2 (linear program on 8001 points), 1.0e-7
    // before float rounding. Cephes's quintic q (about 1 ulp) costs two more fmas per vector in the
    // softmax's hot loop.
    // Package-private for the test that replays exp in scalar float arithmetic.
    static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    static final float Q0 = 0.49999225f, Q1 = 0.16667113f, Q2 = 0.04189088f, Q3 = 0.008312893f;
    /**
     * 1.5 * 2^23 + 127. Adding it to x / ln 2 (|x / ln 2| < 2^21) lands in [2^23, 2^24), where floats are
     * the integers: the sum is rounded to nearest, so its low mantissa bits hold n + 127 + 2^22, and
     * shifting those bits left by 23 leaves exactly (n + 127) << 23, the float 2^n. No float-int
     * conversion, compare or blend: those cost more than the polynomial.
     */
    static final float SHIFTER = 12582912f + 127f;

    /**
     * e^x per lane, with the same bits in every JIT tier. Why not lanewise(EXP): C2 compiles it to a
     * vector math stub while the interpreter and C1 call Math.exp, and the two differ in the last bit; a
     * softmax then depends on when the JIT kicked in, and so does a whole training run (two runs of the
     * same config drifted apart after a few steps). This one is built from max, min, +, *, fma and an
     * integer shift only, each correctly rounded (or exact) in every tier. Relative error below 2e-7
     * (about 2 ulp); inputs below -87.3 give e^-87.3 (about 1.2e-38) instead of a denormal or 0, harmless in a softmax.
     *
     * <p>Callers keep it inlined (small loop bodies): a vector that crosses a call C2 did not inline is
     * boxed, one allocation per vector.
     */
    static FloatVector exp(FloatVector x) {
        x = x.max(-87.3f).min(88.7f);
        FloatVector t = x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, SHIFTER));
        FloatVector n = t.sub(SHIFTER); // round(x / ln 2), exact
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector q = r.fma(Q3, Q2).fma(r, FloatVector.broadcast(F, Q1)).fma(r, FloatVector.broadcast(F, Q0));
        FloatVector p = q.fma(r.mul(r), r).add(1f); // e^r
        FloatVector pow2n = t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(pow2n);
    }

    /**
     * {@link #exp(FloatVector)} for one float, step by step: the same bits as a lane of the vector form. For
     * rows shorter than a vector (a 2-class softmax), where a masked vector per row costs more than the row.
     */
    static float exp(float x) {
        x = Math.min(Math.max(x, -87.3f), 88.7f);
        float t = Math.fma(x, LOG2E, SHIFTER);
        float n = t - SHIFTER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float q = Math.fma(Math.fma(Math.fma(r, Q3, Q2), r, Q1), r, Q0);
        float p = Math.fma(q, r * r, r) + 1f;
        return p * Float.intBitsToFloat(Float.floatToRawIntBits(t) << 23);
    }

    /**
     * The lanes' sum, added in lane order. reduceLanes(ADD) leaves the order to the implementation, and
     * the compiled and interpreted orders can round differently (see {@link #exp}).
     */
    static float sumLanes(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < L; i++) {
            s += v.lane(i);
        }
        return s;
    }

    // ---- element-indexed access (i counts floats, not bytes) ----

    static FloatVector load(MemorySegment s, long i) {
        return FloatVector.fromMemorySegment(F, s, i << 2, LE);
    }

    static FloatVector load(MemorySegment s, long i, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(F, s, i << 2, LE, m);
    }

    /** A full vector when m is null, else the lanes of m (zeros elsewhere): one loop body for both. */
    static FloatVector loadOr(MemorySegment s, long i, VectorMask<Float> m) {
        return m == null ? load(s, i) : load(s, i, m);
    }

    /** Stores all lanes when m is null, else the lanes of m only. */
    static void storeOr(FloatVector v, MemorySegment s, long i, VectorMask<Float> m) {
        if (m == null) {
            store(v, s, i);
        } else {
            store(v, s, i, m);
        }
    }

    /** The tail mask for the vector starting at channel c of a c-channel row, or null if it is full. */
    static VectorMask<Float> maskAt(int c, int n) {
        return c + L <= n ? null : F.indexInRange(c, n);
    }

    static void store(FloatVector v, MemorySegment s, long i) {
        v.intoMemorySegment(s, i << 2, LE);
    }

    static void store(FloatVector v, MemorySegment s, long i, VectorMask<Float> m) {
        v.intoMemorySegment(s, i << 2, LE, m);
    }

    static float get(MemorySegment s, long i) {
        return s.getAtIndex(F32, i);
    }

    static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(F32, i, v);
    }

    static int getInt(MemorySegment s, long i) {
        return s.getAtIndex(I32, i);
    }

    /** The mask of lanes [c, min(c + L, n)) that exist: all true except for a row's last vector. */
    static VectorMask<Float> tail(int c, int n) {
        return F.indexInRange(c, n);
    }

    /** The largest multiple of L that is <= n: where a vector main loop stops. */
    static int bound(int n) {
        return n - n % L;
    }

    static long bound(long n) {
        return n - n % L;
    }

    // ---- checks ----

    /**
     * The cpu backend computes in F32 (F64 tensors exist only for the ref backend's gradient checks), on
     * native memory. Why native only: the Vector API's segment loads and stores share one type profile
     * across the whole process, and a single heap segment (MemorySegment.ofArray) passing through them
     * makes C2 compile every loop compiled after it with a type switch on each access, which slows every
     * kernel compiled afterwards (docs/performance.md).
     */
    static void f32(String op, String arg, Tensor t) {
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": " + arg + " is " + t.dtype() + " " + t.shape()
                    + " but the cpu backend computes in F32 only (F64 is for the ref backend's gradient checks)");
        }
        if (!t.data().isNative()) {
            throw new IllegalArgumentException(op + ": " + arg + " " + t.shape() + " is on the Java heap, but the cpu"
                    + " backend takes native memory only (allocate it with the backend, or wrap an Arena segment)");
        }
    }

    // ---- splitting loops into parts ----

    /**
     * How many parts a loop over {@code items} items of {@code costPerItem} element-operations each
     * should get: one per GRAIN of work, at least 1, at most one per thread and one per item.
     */
    static int parts(Parallel par, long items, long costPerItem) {
        long byWork = items * Math.max(1, costPerItem) / GRAIN;
        return (int) Math.max(1, Math.min(Math.min(par.threads(), items), byWork));
    }

    /** Runs body on contiguous ranges of [0, items), as many as {@link #parts} says. */
    static void range(Parallel par, long items, long costPerItem, Parallel.RangeBody body) {
        int parts = parts(par, items, costPerItem);
        if (parts == 1) {
            body.run(0, items);
            return;
        }
        par.forEach(parts, p -> body.run(items * p / parts, items * (p + 1) / parts));
    }

    /**
     * How many channel blocks per sample a loop parallel over (sample, channel block) should use, so
     * that there are about two parts per thread even for batch 1; blocks are whole vectors wide.
     */
    static int channelBlocks(Parallel par, int n, int c) {
        int vectors = (c + L - 1) / L;
        int wanted = (2 * par.threads() + n - 1) / Math.max(1, n);
        return Math.max(1, Math.min(vectors, wanted));
    }

    /** Channel range [lo, hi) of block b out of {@code blocks} over c channels, on vector boundaries. */
    static int blockStart(int b, int blocks, int c) {
        int vectors = (c + L - 1) / L;
        return Math.min(c, (int) ((long) vectors * b / blocks) * L);
    }
}
