package org.densecl.backend.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * The B operand of a stride-1 data gradient written as a forward convolution of dY: with the filter
 * rotated by 180 degrees and its K and C swapped,
 * <pre>  dx[n, h, w, c] = sum over (r', s', k) of dY_col(n h w, (r', s', k)) * W[k, R-1-r', S-1-s', c]</pre>
 * so B(p = (r', s', k), j = c) = W[k, R-1-r', S-1-s', c], read straight from the KRSC filter: for each p
 * the 16 channels of a panel are contiguous, and no flipped copy of W is ever made.
 */
public final class FlippedFilterB implements BSource, MatrixRows {
    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private MemorySegment w;
    private int k, r, s, c;

    /** Points this operand at the filter w (K, R, S, C). */
    public FlippedFilterB set(MemorySegment w, int k, int r, int s, int c) {
        this.w = w;
        this.k = k;
        this.r = r;
        this.s = s;
        this.c = c;
        return this;
    }

    public void clear() {
        w = null;
    }

    @Override
    public int rowLength() {
        return c;
    }

    /** Row p = (r', s', k) of B: W[k, R-1-r', S-1-s', 0..C), contiguous in the KRSC filter. */
    @Override
    public void gatherRow(long row, float[] dst, int d) {
        int sk = s * k;
        int rr = (int) (row / sk), rem = (int) (row - (long) rr * sk), ss = rem / k, kk = rem - ss * k;
        long off = (((long) kk * r + (r - 1 - rr)) * s + (s - 1 - ss)) * c;
        MemorySegment.copy(w, MatrixPanels.F32, 4 * off, dst, d, c);
    }

    @Override
    public void packB(float[] dst, int dstOff, int j0, int cols, int p0, int kc) {
        final int nr = MicroKernel.NR;
        int sk = s * k;
        for (int qd = 0; qd * nr < cols; qd++) {
            int base = dstOff + qd * nr * kc;
            int j = j0 + qd * nr;
            int width = Math.min(nr, cols - qd * nr);
            int rr = p0 / sk, rem = p0 - rr * sk, ss = rem / k, kk = rem - ss * k;
            for (int t = 0; t < kc; t++) {
                // element (kk, R-1-rr, S-1-ss, j) of the KRSC filter
                long off = (((long) kk * r + (r - 1 - rr)) * s + (s - 1 - ss)) * c + j;
                int d = base + t * nr;
                if (width == nr) {
                    FloatVector.fromMemorySegment(S, w, 4 * off, ByteOrder.LITTLE_ENDIAN).intoArray(dst, d);
                    FloatVector.fromMemorySegment(S, w, 4 * off + 4L * Lanes.COUNT, ByteOrder.LITTLE_ENDIAN)
                            .intoArray(dst, d + Lanes.COUNT);
                } else {
                    for (int e = 0; e < width; e++) {
                        dst[d + e] = w.getAtIndex(MatrixPanels.F32, off + e);
                    }
                    Arrays.fill(dst, d + width, d + nr, 0f);
                }
                if (++kk == k) {
                    kk = 0;
                    if (++ss == s) {
                        ss = 0;
                        rr++;
                    }
                }
            }
        }
    }
}
