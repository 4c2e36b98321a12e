package org.densecl.backend.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * The register-blocked micro-kernel: a 6-row A panel times a B panel two vectors wide (NR = 16 columns
 * with 8-float vectors, 32 with 16-float ones; {@link Lanes}) over kc steps, accumulated in 12 vector
 * registers (6 rows x 2 vectors). Per step it loads two B vectors, broadcasts six A values and issues 12
 * FMAs. The tile follows the vector width, so AVX-512 runs half the instructions per FLOP of AVX2; each
 * output element is still summed over k in order in its own lane, so the bits do not depend on the width.
 *
 * <p>Why 12 accumulators: an FMA has 4 cycles of latency and a core starts two per cycle, so 8
 * independent chains is the bare minimum and leaves no slack; 4x16 against 6x16 is in docs/performance.md.
 *
 * <p>Why the fences: with AVX2's 16 vector registers, 12 accumulators + 2 B vectors leave 2 for the broadcasts, and
 * C2's scheduler hoists all six broadcast loads of a step ahead of the FMAs, which then spills two
 * accumulators to the stack on every step. A {@code VarHandle.loadLoadFence()} after each row emits no
 * instruction on x86 but stops loads from moving above it, so each broadcast is loaded just before its two
 * FMAs and the loop needs only 15 registers.
 *
 * <p>Why the single loop index: the A offsets are {@code index + r * KC} (rows layout) or
 * {@code index + r} (interleaved), constant displacements of one register. Indexing by {@code ai + p}
 * instead makes C2 recompute and sign-extend that sum every step (7 integer instructions per 12 FMAs).
 *
 * <p>Both panels are packed float[] (see {@link ASource}, {@link BSource}): C2 removes the array bounds
 * checks from the loop, and panels read from a native MemorySegment instead are several times slower
 * (docs/performance.md). C is a segment (a tensor's memory), touched once per tile.
 *
 * <p>Why six copies of the same loop (two A layouts, each ending in a tile array or in C, the direct stem's
 * patches read from the padded image, {@link #multiplyPatchesInto}, and a float[] C for Winograd's
 * products, {@link #multiplyIntoArray}): the
 * accumulators are 12 vectors, and vectors passed to or returned from a method that C2 does not inline
 * are boxed (heap objects), so the loop cannot be shared through a helper that takes or returns them.
 * Each copy is straight-line code a reader can check against the others line by line.
 */
public final class MicroKernel {
    static final VectorSpecies<Float> S = Lanes.FLOATS;
    /** Floats per vector. */
    private static final int L = Lanes.COUNT;
    /** Bytes per vector. */
    private static final long VB = 4L * L;
    /** Rows of a micro-tile (A panel height). */
    public static final int MR = 6;
    /** Columns of a micro-tile (B panel width): two vectors. */
    public static final int NR = 2 * L;
    private static final int KC = VectorGemm.KC;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private MicroKernel() {}

    /**
     * tile (MR x NR, row-major) = Apanel * Bpanel over kc steps, for an A panel in the rows layout (row
     * r's k values contiguous from {@code ai + r * KC}). For edge tiles and alpha/beta other than 1 and
     * 0/1, then {@link #update}; whole tiles take {@link #multiplyInto}. (The general update, with its
     * loops and branches, in the same method as this loop runs C2 out of inlining budget, and vectors
     * crossing a call that is not inlined are boxed.)
     */
    public static void multiply(int kc, float[] a, int ai, float[] b, int bi, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int end = ai + kc; ai < end; ai++, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector v = FloatVector.broadcast(S, a[ai]);
            c00 = v.fma(b0, c00);
            c01 = v.fma(b1, c01);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + KC]);
            c10 = v.fma(b0, c10);
            c11 = v.fma(b1, c11);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 2 * KC]);
            c20 = v.fma(b0, c20);
            c21 = v.fma(b1, c21);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 3 * KC]);
            c30 = v.fma(b0, c30);
            c31 = v.fma(b1, c31);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 4 * KC]);
            c40 = v.fma(b0, c40);
            c41 = v.fma(b1, c41);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 5 * KC]);
            c50 = v.fma(b0, c50);
            c51 = v.fma(b1, c51);
            VarHandle.loadLoadFence();
        }
        store(tile, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    /**
     * {@link #multiply} for a whole tile with alpha 1, writing the accumulators straight into C (beta 0:
     * C is not read) or adding them to it (beta 1): no round trip through the tile array and no separate
     * update call, fixed work per tile that a short k (64 steps) does not hide. C's element (r, j) is at
     * byte {@code cOff + r * ldcBytes + 4 * j}.
     */
    static void multiplyInto(int kc, float[] a, int ai, float[] b, int bi, MemorySegment c, long cOff,
                             long ldcBytes, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int end = ai + kc; ai < end; ai++, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector v = FloatVector.broadcast(S, a[ai]);
            c00 = v.fma(b0, c00);
            c01 = v.fma(b1, c01);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + KC]);
            c10 = v.fma(b0, c10);
            c11 = v.fma(b1, c11);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 2 * KC]);
            c20 = v.fma(b0, c20);
            c21 = v.fma(b1, c21);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 3 * KC]);
            c30 = v.fma(b0, c30);
            c31 = v.fma(b1, c31);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 4 * KC]);
            c40 = v.fma(b0, c40);
            c41 = v.fma(b1, c41);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 5 * KC]);
            c50 = v.fma(b0, c50);
            c51 = v.fma(b1, c51);
            VarHandle.loadLoadFence();
        }
        // Loads and stores written out here, not in helpers: vectors passed to a method that C2 does not
        // inline are boxed, and C2 may recompile the caller with such a helper.
        if (accumulate) {
            c00 = c00.add(FloatVector.fromMemorySegment(S, c, cOff, LE));
            c01 = c01.add(FloatVector.fromMemorySegment(S, c, cOff + VB, LE));
            c10 = c10.add(FloatVector.fromMemorySegment(S, c, cOff + ldcBytes, LE));
            c11 = c11.add(FloatVector.fromMemorySegment(S, c, cOff + ldcBytes + VB, LE));
            c20 = c20.add(FloatVector.fromMemorySegment(S, c, cOff + 2 * ldcBytes, LE));
            c21 = c21.add(FloatVector.fromMemorySegment(S, c, cOff + 2 * ldcBytes + VB, LE));
            c30 = c30.add(FloatVector.fromMemorySegment(S, c, cOff + 3 * ldcBytes, LE));
            c31 = c31.add(FloatVector.fromMemorySegment(S, c, cOff + 3 * ldcBytes + VB, LE));
            c40 = c40.add(FloatVector.fromMemorySegment(S, c, cOff + 4 * ldcBytes, LE));
            c41 = c41.add(FloatVector.fromMemorySegment(S, c, cOff + 4 * ldcBytes + VB, LE));
            c50 = c50.add(FloatVector.fromMemorySegment(S, c, cOff + 5 * ldcBytes, LE));
            c51 = c51.add(FloatVector.fromMemorySegment(S, c, cOff + 5 * ldcBytes + VB, LE));
        }
        c00.intoMemorySegment(c, cOff, LE);
        c01.intoMemorySegment(c, cOff + VB, LE);
        c10.intoMemorySegment(c, cOff + ldcBytes, LE);
        c11.intoMemorySegment(c, cOff + ldcBytes + VB, LE);
        c20.intoMemorySegment(c, cOff + 2 * ldcBytes, LE);
        c21.intoMemorySegment(c, cOff + 2 * ldcBytes + VB, LE);
        c30.intoMemorySegment(c, cOff + 3 * ldcBytes, LE);
        c31.intoMemorySegment(c, cOff + 3 * ldcBytes + VB, LE);
        c40.intoMemorySegment(c, cOff + 4 * ldcBytes, LE);
        c41.intoMemorySegment(c, cOff + 4 * ldcBytes + VB, LE);
        c50.intoMemorySegment(c, cOff + 5 * ldcBytes, LE);
        c51.intoMemorySegment(c, cOff + 5 * ldcBytes + VB, LE);
    }

    /**
     * {@link #multiplyInto} into a float[] C (Winograd's per-point products): C's element (r, j) is
     * {@code c[ci + r * ldc + j]}, written (accumulate false) or added to. For whole tiles; edge tiles take
     * {@link #multiply} and the caller's copy.
     */
    public static void multiplyIntoArray(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc,
                                         boolean accumulate) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int end = ai + kc; ai < end; ai++, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector v = FloatVector.broadcast(S, a[ai]);
            c00 = v.fma(b0, c00);
            c01 = v.fma(b1, c01);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + KC]);
            c10 = v.fma(b0, c10);
            c11 = v.fma(b1, c11);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 2 * KC]);
            c20 = v.fma(b0, c20);
            c21 = v.fma(b1, c21);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 3 * KC]);
            c30 = v.fma(b0, c30);
            c31 = v.fma(b1, c31);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 4 * KC]);
            c40 = v.fma(b0, c40);
            c41 = v.fma(b1, c41);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 5 * KC]);
            c50 = v.fma(b0, c50);
            c51 = v.fma(b1, c51);
            VarHandle.loadLoadFence();
        }
        if (accumulate) {
            c00 = c00.add(FloatVector.fromArray(S, c, ci));
            c01 = c01.add(FloatVector.fromArray(S, c, ci + L));
            c10 = c10.add(FloatVector.fromArray(S, c, ci + ldc));
            c11 = c11.add(FloatVector.fromArray(S, c, ci + ldc + L));
            c20 = c20.add(FloatVector.fromArray(S, c, ci + 2 * ldc));
            c21 = c21.add(FloatVector.fromArray(S, c, ci + 2 * ldc + L));
            c30 = c30.add(FloatVector.fromArray(S, c, ci + 3 * ldc));
            c31 = c31.add(FloatVector.fromArray(S, c, ci + 3 * ldc + L));
            c40 = c40.add(FloatVector.fromArray(S, c, ci + 4 * ldc));
            c41 = c41.add(FloatVector.fromArray(S, c, ci + 4 * ldc + L));
            c50 = c50.add(FloatVector.fromArray(S, c, ci + 5 * ldc));
            c51 = c51.add(FloatVector.fromArray(S, c, ci + 5 * ldc + L));
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c30.intoArray(c, ci + 3 * ldc);
        c31.intoArray(c, ci + 3 * ldc + L);
        c40.intoArray(c, ci + 4 * ldc);
        c41.intoArray(c, ci + 4 * ldc + L);
        c50.intoArray(c, ci + 5 * ldc);
        c51.intoArray(c, ci + 5 * ldc + L);
    }

    /**
     * {@link #multiplyInto} (beta 0) with A read straight from a padded input image instead of a packed
     * panel: tile row t is the output pixel whose receptive field starts at {@code a[ai + t * }{@link
     * StemConv#STEP}{@code ]}, and its k values are {@code rows} runs of {@code rowLen} contiguous floats,
     * {@code rowStride} apart (the kernel rows of the patch). The k order, and so the sum's order, is
     * the GEMM's (R, S, C).
     */
    static void multiplyPatchesInto(int rows, int rowLen, int rowStride, float[] a, int ai, float[] b, int bi,
                                    MemorySegment c, long cOff, long ldcBytes) {
        final int d = StemConv.STEP;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int r = 0; r < rows; r++, ai += rowStride) {
            for (int i = ai, end = ai + rowLen; i < end; i++, bi += NR) {
                FloatVector b0 = FloatVector.fromArray(S, b, bi);
                FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
                FloatVector v = FloatVector.broadcast(S, a[i]);
                c00 = v.fma(b0, c00);
                c01 = v.fma(b1, c01);
                VarHandle.loadLoadFence();
                v = FloatVector.broadcast(S, a[i + d]);
                c10 = v.fma(b0, c10);
                c11 = v.fma(b1, c11);
                VarHandle.loadLoadFence();
                v = FloatVector.broadcast(S, a[i + 2 * d]);
                c20 = v.fma(b0, c20);
                c21 = v.fma(b1, c21);
                VarHandle.loadLoadFence();
                v = FloatVector.broadcast(S, a[i + 3 * d]);
                c30 = v.fma(b0, c30);
                c31 = v.fma(b1, c31);
                VarHandle.loadLoadFence();
                v = FloatVector.broadcast(S, a[i + 4 * d]);
                c40 = v.fma(b0, c40);
                c41 = v.fma(b1, c41);
                VarHandle.loadLoadFence();
                v = FloatVector.broadcast(S, a[i + 5 * d]);
                c50 = v.fma(b0, c50);
                c51 = v.fma(b1, c51);
                VarHandle.loadLoadFence();
            }
        }
        c00.intoMemorySegment(c, cOff, LE);
        c01.intoMemorySegment(c, cOff + VB, LE);
        c10.intoMemorySegment(c, cOff + ldcBytes, LE);
        c11.intoMemorySegment(c, cOff + ldcBytes + VB, LE);
        c20.intoMemorySegment(c, cOff + 2 * ldcBytes, LE);
        c21.intoMemorySegment(c, cOff + 2 * ldcBytes + VB, LE);
        c30.intoMemorySegment(c, cOff + 3 * ldcBytes, LE);
        c31.intoMemorySegment(c, cOff + 3 * ldcBytes + VB, LE);
        c40.intoMemorySegment(c, cOff + 4 * ldcBytes, LE);
        c41.intoMemorySegment(c, cOff + 4 * ldcBytes + VB, LE);
        c50.intoMemorySegment(c, cOff + 5 * ldcBytes, LE);
        c51.intoMemorySegment(c, cOff + 5 * ldcBytes + VB, LE);
    }

    /** {@link #multiply} for an A panel in the interleaved layout: the MR values of each k step adjacent. */
    static void multiplyInterleaved(int kc, float[] a, int ai, float[] b, int bi, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int end = ai + MR * kc; ai < end; ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector v = FloatVector.broadcast(S, a[ai]);
            c00 = v.fma(b0, c00);
            c01 = v.fma(b1, c01);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 1]);
            c10 = v.fma(b0, c10);
            c11 = v.fma(b1, c11);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 2]);
            c20 = v.fma(b0, c20);
            c21 = v.fma(b1, c21);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 3]);
            c30 = v.fma(b0, c30);
            c31 = v.fma(b1, c31);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 4]);
            c40 = v.fma(b0, c40);
            c41 = v.fma(b1, c41);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 5]);
            c50 = v.fma(b0, c50);
            c51 = v.fma(b1, c51);
            VarHandle.loadLoadFence();
        }
        store(tile, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    /** {@link #multiplyInto} for an A panel in the interleaved layout. */
    static void multiplyInterleavedInto(int kc, float[] a, int ai, float[] b, int bi, MemorySegment c, long cOff,
                                        long ldcBytes, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int end = ai + MR * kc; ai < end; ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector v = FloatVector.broadcast(S, a[ai]);
            c00 = v.fma(b0, c00);
            c01 = v.fma(b1, c01);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 1]);
            c10 = v.fma(b0, c10);
            c11 = v.fma(b1, c11);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 2]);
            c20 = v.fma(b0, c20);
            c21 = v.fma(b1, c21);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 3]);
            c30 = v.fma(b0, c30);
            c31 = v.fma(b1, c31);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 4]);
            c40 = v.fma(b0, c40);
            c41 = v.fma(b1, c41);
            VarHandle.loadLoadFence();
            v = FloatVector.broadcast(S, a[ai + 5]);
            c50 = v.fma(b0, c50);
            c51 = v.fma(b1, c51);
            VarHandle.loadLoadFence();
        }
        // Loads and stores written out here, not in helpers: vectors passed to a method that C2 does not
        // inline are boxed, and C2 may recompile the caller with such a helper.
        if (accumulate) {
            c00 = c00.add(FloatVector.fromMemorySegment(S, c, cOff, LE));
            c01 = c01.add(FloatVector.fromMemorySegment(S, c, cOff + VB, LE));
            c10 = c10.add(FloatVector.fromMemorySegment(S, c, cOff + ldcBytes, LE));
            c11 = c11.add(FloatVector.fromMemorySegment(S, c, cOff + ldcBytes + VB, LE));
            c20 = c20.add(FloatVector.fromMemorySegment(S, c, cOff + 2 * ldcBytes, LE));
            c21 = c21.add(FloatVector.fromMemorySegment(S, c, cOff + 2 * ldcBytes + VB, LE));
            c30 = c30.add(FloatVector.fromMemorySegment(S, c, cOff + 3 * ldcBytes, LE));
            c31 = c31.add(FloatVector.fromMemorySegment(S, c, cOff + 3 * ldcBytes + VB, LE));
            c40 = c40.add(FloatVector.fromMemorySegment(S, c, cOff + 4 * ldcBytes, LE));
            c41 = c41.add(FloatVector.fromMemorySegment(S, c, cOff + 4 * ldcBytes + VB, LE));
            c50 = c50.add(FloatVector.fromMemorySegment(S, c, cOff + 5 * ldcBytes, LE));
            c51 = c51.add(FloatVector.fromMemorySegment(S, c, cOff + 5 * ldcBytes + VB, LE));
        }
        c00.intoMemorySegment(c, cOff, LE);
        c01.intoMemorySegment(c, cOff + VB, LE);
        c10.intoMemorySegment(c, cOff + ldcBytes, LE);
        c11.intoMemorySegment(c, cOff + ldcBytes + VB, LE);
        c20.intoMemorySegment(c, cOff + 2 * ldcBytes, LE);
        c21.intoMemorySegment(c, cOff + 2 * ldcBytes + VB, LE);
        c30.intoMemorySegment(c, cOff + 3 * ldcBytes, LE);
        c31.intoMemorySegment(c, cOff + 3 * ldcBytes + VB, LE);
        c40.intoMemorySegment(c, cOff + 4 * ldcBytes, LE);
        c41.intoMemorySegment(c, cOff + 4 * ldcBytes + VB, LE);
        c50.intoMemorySegment(c, cOff + 5 * ldcBytes, LE);
        c51.intoMemorySegment(c, cOff + 5 * ldcBytes + VB, LE);
    }

    // tile (MR, NR) = the 12 accumulators, row by row.
    private static void store(float[] tile, FloatVector c00, FloatVector c01, FloatVector c10, FloatVector c11,
                              FloatVector c20, FloatVector c21, FloatVector c30, FloatVector c31,
                              FloatVector c40, FloatVector c41, FloatVector c50, FloatVector c51) {
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
    }

    /**
     * C[0..mr, 0..nr] = alpha * tile + beta * C (beta = 0: C is not read, so NaN there is harmless).
     * C's element (r, j) is at byte {@code cOff + r * ldcBytes + 4 * j}.
     */
    static void update(float[] tile, float alpha, float beta, MemorySegment c, long cOff, long ldcBytes,
                       int mr, int nr) {
        if (nr != NR) {
            storeEdge(tile, c, cOff, ldcBytes, mr, nr, alpha, beta);
            return;
        }
        FloatVector va = FloatVector.broadcast(S, alpha);
        FloatVector vb = FloatVector.broadcast(S, beta);
        for (int r = 0; r < mr; r++) {
            long off = cOff + r * ldcBytes;
            for (int h = 0; h < NR; h += L) {
                FloatVector v = FloatVector.fromArray(S, tile, r * NR + h).mul(va);
                if (beta != 0f) {
                    v = FloatVector.fromMemorySegment(S, c, off + 4 * h, LE).fma(vb, v);
                }
                v.intoMemorySegment(c, off + 4 * h, LE);
            }
        }
    }

    // Whole vectors of a row first (an 8-channel layer's tile is one vector of a 6x16 tile), then floats.
    private static void storeEdge(float[] tile, MemorySegment c, long cOff, long ldcBytes, int mr, int nr,
                                  float alpha, float beta) {
        int whole = nr / L * L;
        for (int r = 0; r < mr; r++) {
            long row = cOff + r * ldcBytes;
            for (int j = 0; j < whole; j += L) {
                FloatVector v = FloatVector.fromArray(S, tile, r * NR + j).mul(alpha);
                if (beta != 0f) {
                    v = FloatVector.fromMemorySegment(S, c, row + 4L * j, LE).fma(FloatVector.broadcast(S, beta), v);
                }
                v.intoMemorySegment(c, row + 4L * j, LE);
            }
            for (int j = whole; j < nr; j++) {
                long off = row + 4L * j;
                float v = alpha * tile[r * NR + j];
                if (beta != 0f) {
                    v = Math.fma(c.get(MatrixPanels.F32, off), beta, v); // rounded as the vector columns are
                }
                c.set(MatrixPanels.F32, off, v);
            }
        }
    }
}
