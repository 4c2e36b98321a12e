package org.densecl.backend.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * A dense row-major matrix in a segment as a GEMM operand, optionally transposed (BLAS's op(X)). The
 * packing that follows the storage order is a straight copy (A not transposed: rows; B not transposed:
 * 16-float runs); the other order is a strided gather. Instances are reusable: {@link #asA} and
 * {@link #asB} re-point them, so a caller can keep one per operand and allocate nothing per call.
 */
public final class MatrixPanels implements ASource, BSource {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private static final int L = Lanes.COUNT;
    private static final int MR = MicroKernel.MR;
    private static final int NR = MicroKernel.NR;
    private static final int KC = VectorGemm.KC;

    /** Per thread: (NR, L) NR runs of L k steps, the transposed B pack's staging tile. */
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[NR * L]);

    private MemorySegment seg;
    private int ld;              // stored row length
    private boolean transposed;  // true: op(X) = X^T of the stored matrix

    /** Operand A (m, k): stored (m, k), or (k, m) when {@code transA}. */
    public MatrixPanels asA(MemorySegment a, int m, int k, boolean transA) {
        this.seg = a;
        this.ld = transA ? m : k;
        this.transposed = transA;
        return this;
    }

    /** Operand B (k, n): stored (k, n), or (n, k) when {@code transB}. */
    public MatrixPanels asB(MemorySegment b, int k, int n, boolean transB) {
        this.seg = b;
        this.ld = transB ? k : n;
        this.transposed = transB;
        return this;
    }

    /** The stored matrix. */
    public MemorySegment segment() {
        return seg;
    }

    /** Its stored row length (BLAS's leading dimension). */
    public int leadingDimension() {
        return ld;
    }

    /** Whether the operand is the stored matrix transposed. */
    public boolean transposed() {
        return transposed;
    }

    /** Forgets the segment (so a finished call keeps no tensor reachable). */
    public void clear() {
        seg = null;
    }

    @Override
    public void packA(float[] dst, int dstOff, int i0, int rows, int p0, int kc) {
        if (transposed) {
            packTransposedA(dst, dstOff, i0, rows, p0, kc);
            return;
        }
        for (int q = 0; q * MR < rows; q++) {
            int i = i0 + q * MR;
            int w = Math.min(MR, rows - q * MR);
            // A(i, p) at i*ld + p: each panel row is one bulk copy, rows KC apart.
            int base = dstOff + q * MR * KC;
            for (int t = 0; t < w; t++) {
                MemorySegment.copy(seg, F32, 4 * ((long) (i + t) * ld + p0), dst, base + t * KC, kc);
            }
            for (int t = w; t < MR; t++) {
                Arrays.fill(dst, base + t * KC, base + t * KC + kc, 0f);
            }
        }
    }

    // A(i, p) at p*ld + i: the MR neighbours of each k step are contiguous in memory, as in the
    // interleaved layout. Walks A row by row (p outer): a sequential read. Panel by panel instead, every
    // step jumps ld floats, and at ld = 1024 all those rows fall into the same L1 set.
    private void packTransposedA(float[] dst, int dstOff, int i0, int rows, int p0, int kc) {
        int full = rows / MR, w = rows - full * MR;
        long last = seg.byteSize() - 4L * L; // a vector read from here on would leave the segment
        for (int p = 0; p < kc; p++) {
            long row = 4 * ((long) (p0 + p) * ld + i0);
            int d = dstOff + p * MR;
            for (int q = 0; q < full; q++, d += MR * kc) {
                long off = row + 4L * q * MR;
                if (L >= MR && off <= last && p * MR + L <= kc * MR) {
                    // A vector for 6 floats: the extra ones land in this panel's next k steps, written after this.
                    FloatVector.fromMemorySegment(S, seg, off, ByteOrder.LITTLE_ENDIAN).intoArray(dst, d);
                } else {
                    MemorySegment.copy(seg, F32, off, dst, d, MR);
                }
            }
            if (w > 0) {
                MemorySegment.copy(seg, F32, row + 4L * full * MR, dst, d, w);
                Arrays.fill(dst, d + w, d + MR, 0f);
            }
        }
    }

    // B(p, j) at j*ld + p (a weight matrix W (n, k) as B = W^T): each panel column is a run along p.
    // Per L k steps, the panel's NR runs are loaded one vector each into a small tile and written back
    // as L rows of NR floats: both sides in L1, each source line read once and whole. (Float by float,
    // the writes went NR floats apart, a cache line each.)
    private void packTransposedB(float[] dst, int dstOff, int j0, int cols, int p0, int kc) {
        float[] tile = TILE.get();
        int fullSteps = kc / L * L;
        for (int q = 0; q * NR < cols; q++) {
            int base = dstOff + q * NR * kc;
            int j = j0 + q * NR;
            int w = Math.min(NR, cols - q * NR);
            if (w < NR) {
                Arrays.fill(tile, 0f); // the columns past w stay zero
            }
            for (int p = 0; p < fullSteps; p += L) {
                for (int t = 0; t < w; t++) {
                    FloatVector.fromMemorySegment(S, seg, 4 * ((long) (j + t) * ld + p0 + p), ByteOrder.LITTLE_ENDIAN)
                            .intoArray(tile, t * L);
                }
                for (int r = 0; r < L; r++) {
                    int d = base + (p + r) * NR;
                    for (int t = 0; t < NR; t++) {
                        dst[d + t] = tile[t * L + r];
                    }
                }
            }
            for (int p = fullSteps; p < kc; p++) {
                int d = base + p * NR;
                for (int t = 0; t < NR; t++) {
                    dst[d + t] = t < w ? seg.getAtIndex(F32, (long) (j + t) * ld + p0 + p) : 0f;
                }
            }
        }
    }

    @Override
    public boolean interleaved() {
        return transposed;
    }

    @Override
    public void packB(float[] dst, int dstOff, int j0, int cols, int p0, int kc) {
        if (!transposed) {
            // B(p, j) at p*ld + j: walk B row by row (a sequential read the prefetcher follows) and deal
            // each row's NR-float runs out to the panels.
            int full = cols / NR, w = cols - full * NR;
            int tail = dstOff + full * NR * kc; // the last, partial panel: zeros past its w columns
            if (w > 0) {
                Arrays.fill(dst, tail, tail + NR * kc, 0f);
            }
            for (int p = 0; p < kc; p++) {
                long row = (long) (p0 + p) * ld + j0;
                int d = dstOff + p * NR;
                for (int q = 0; q < full; q++, d += NR * kc) {
                    long off = 4 * (row + q * NR);
                    FloatVector.fromMemorySegment(S, seg, off, ByteOrder.LITTLE_ENDIAN).intoArray(dst, d);
                    FloatVector.fromMemorySegment(S, seg, off + 4L * L, ByteOrder.LITTLE_ENDIAN).intoArray(dst, d + L);
                }
                if (w > 0) {
                    // One bulk copy, not a bounds-checked segment read and a branch per float: an 8-channel
                    // layer's B is all tail.
                    MemorySegment.copy(seg, F32, 4 * (row + full * NR), dst, tail + p * NR, w);
                }
            }
            return;
        }
        packTransposedB(dst, dstOff, j0, cols, p0, kc);
    }
}
