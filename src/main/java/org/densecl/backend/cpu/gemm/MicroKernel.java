package org.densecl.backend.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked 4x16 micro-kernel: a 4-row A panel times a 16-column B panel over kc steps,
 * accumulated in 8 AVX2 registers (4 rows x 2 vectors of 8 floats). Per step it loads two B vectors,
 * broadcasts four A values and issues 8 FMAs.
 *
 * <p>Why 4x16 and not BLIS's 6x16: C2's scheduler hoists the broadcasts of a k step ahead of their FMAs,
 * so several are live at once. 6x16 (12 accumulators + 2 B vectors) then runs out of the 16 ymm
 * registers and spills an accumulator through the stack on every step (measured: 40 GFLOP/s per core),
 * and 5x16, 4x24 and 3x32 were as slow; 4x16 needs at most 8 + 2 + 4 = 14 registers.
 *
 * <p>Both panels are packed float[] (see {@link ASource}, {@link BSource}): C2 removes the array bounds
 * checks from the k loop (its disassembly shows 2 loads, 4 broadcasts, 8 FMAs and the loop counter),
 * and the kernel runs at 100 GFLOP/s on one Zen 3 core with L1-resident panels. The same kernel reading
 * panels from a native MemorySegment ran at 35 GFLOP/s, measured side by side. C is a
 * segment (a tensor's memory), touched once per tile.
 */
public final class MicroKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    static final int MR = 4;
    static final int NR = 16;
    private static final int KC = VectorGemm.KC;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private MicroKernel() {}

    /**
     * tile (MR x NR, row-major) = Apanel * Bpanel over kc steps. Kept apart from the C update so that
     * C2 inlines every vector operation of this loop: with the C update in the same method the
     * inlining budget ran out, and vectors crossing a call that is not inlined are boxed (3x slower).
     */
    public static void multiply(int kc, float[] a, int ai, float[] b, int bi, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        // A panel rows are contiguous along k, KC apart (see ASource): constant offsets fold into the
        // broadcasts' addresses (measured: 91 vs 100 GFLOP/s per core with kc-apart rows in registers).
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + 8);
            FloatVector v0 = FloatVector.broadcast(S, a[ai + p]);
            FloatVector v1 = FloatVector.broadcast(S, a[ai + KC + p]);
            FloatVector v2 = FloatVector.broadcast(S, a[ai + 2 * KC + p]);
            FloatVector v3 = FloatVector.broadcast(S, a[ai + 3 * KC + p]);
            c00 = v0.fma(b0, c00);
            c01 = v0.fma(b1, c01);
            c10 = v1.fma(b0, c10);
            c11 = v1.fma(b1, c11);
            c20 = v2.fma(b0, c20);
            c21 = v2.fma(b1, c21);
            c30 = v3.fma(b0, c30);
            c31 = v3.fma(b1, c31);
            bi += NR;
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, 8);
        c10.intoArray(tile, 16);
        c11.intoArray(tile, 24);
        c20.intoArray(tile, 32);
        c21.intoArray(tile, 40);
        c30.intoArray(tile, 48);
        c31.intoArray(tile, 56);
    }

    /** {@link #multiply} for an A panel in the interleaved layout: the MR values of each k step adjacent. */
    static void multiplyInterleaved(int kc, float[] a, int ai, float[] b, int bi, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + 8);
            FloatVector v0 = FloatVector.broadcast(S, a[ai]);
            FloatVector v1 = FloatVector.broadcast(S, a[ai + 1]);
            FloatVector v2 = FloatVector.broadcast(S, a[ai + 2]);
            FloatVector v3 = FloatVector.broadcast(S, a[ai + 3]);
            c00 = v0.fma(b0, c00);
            c01 = v0.fma(b1, c01);
            c10 = v1.fma(b0, c10);
            c11 = v1.fma(b1, c11);
            c20 = v2.fma(b0, c20);
            c21 = v2.fma(b1, c21);
            c30 = v3.fma(b0, c30);
            c31 = v3.fma(b1, c31);
            ai += MR;
            bi += NR;
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, 8);
        c10.intoArray(tile, 16);
        c11.intoArray(tile, 24);
        c20.intoArray(tile, 32);
        c21.intoArray(tile, 40);
        c30.intoArray(tile, 48);
        c31.intoArray(tile, 56);
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
            for (int h = 0; h < NR; h += 8) {
                FloatVector v = FloatVector.fromArray(S, tile, r * NR + h).mul(va);
                if (beta != 0f) {
                    v = FloatVector.fromMemorySegment(S, c, off + 4 * h, LE).fma(vb, v);
                }
                v.intoMemorySegment(c, off + 4 * h, LE);
            }
        }
    }

    private static void storeEdge(float[] tile, MemorySegment c, long cOff, long ldcBytes, int mr, int nr,
                                  float alpha, float beta) {
        for (int r = 0; r < mr; r++) {
            long row = cOff + r * ldcBytes;
            for (int j = 0; j < nr; j++) {
                long off = row + 4L * j;
                float v = alpha * tile[r * NR + j];
                if (beta != 0f) {
                    v += beta * c.get(MatrixPanels.F32, off);
                }
                c.set(MatrixPanels.F32, off, v);
            }
        }
    }
}
