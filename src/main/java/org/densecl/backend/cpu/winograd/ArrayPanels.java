package org.densecl.backend.cpu.winograd;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.cpu.gemm.ASource;
import org.densecl.backend.cpu.gemm.BSource;
import org.densecl.backend.cpu.gemm.VectorGemm;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * One of the 36 point matrices of a Winograd scratch array (a row-major block of a float[] at an offset) as
 * a GEMM operand, packed in the layouts that {@link ASource} and {@link BSource} define. A is stored
 * (m, k), or (k, m) when transposed (then it packs interleaved, MR floats per k step); B is stored (k, n).
 * Re-pointed per point with {@link #asA}/{@link #asB}, so a convolution allocates nothing.
 */
final class ArrayPanels implements ASource, BSource {
    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private static final int MR = VectorGemm.MR;
    private static final int NR = VectorGemm.NR;
    private static final int L = Lanes.COUNT;
    private static final int KC = VectorGemm.KC;

    private float[] data;
    private int off;             // index of element (0, 0)
    private int ld;              // stored row length
    private boolean transposed;

    /** A (m, k) at data[off..]: stored (m, k), or (k, m) when {@code transposed}. */
    ArrayPanels asA(float[] data, int off, int m, int k, boolean transposed) {
        this.data = data;
        this.off = off;
        this.ld = transposed ? m : k;
        this.transposed = transposed;
        return this;
    }

    /** B (k, n) at data[off..], stored (k, n). */
    ArrayPanels asB(float[] data, int off, int n) {
        this.data = data;
        this.off = off;
        this.ld = n;
        this.transposed = false;
        return this;
    }

    void clear() {
        data = null;
    }

    @Override
    public boolean interleaved() {
        return transposed;
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
            int base = dstOff + q * MR * KC; // rows KC apart (see ASource)
            for (int t = 0; t < w; t++) {
                System.arraycopy(data, off + (i + t) * ld + p0, dst, base + t * KC, kc);
            }
            for (int t = w; t < MR; t++) {
                Arrays.fill(dst, base + t * KC, base + t * KC + kc, 0f);
            }
        }
    }

    // A(i, p) at p*ld + i: the MR rows of one k step are neighbours. Walks A row by row (p outer), a
    // sequential read, as MatrixPanels does for a transposed A.
    private void packTransposedA(float[] dst, int dstOff, int i0, int rows, int p0, int kc) {
        int full = rows / MR, w = rows - full * MR;
        int last = data.length - L; // a vector read from here on would leave the array
        for (int p = 0; p < kc; p++) {
            int row = off + (p0 + p) * ld + i0;
            int d = dstOff + p * MR;
            for (int q = 0; q < full; q++, d += MR * kc) {
                int src = row + q * MR;
                if (L >= MR && src <= last && p * MR + L <= kc * MR) {
                    // A vector for 6 floats: the extra ones land in this panel's next k steps, written after this.
                    FloatVector.fromArray(S, data, src).intoArray(dst, d);
                } else {
                    System.arraycopy(data, src, dst, d, MR);
                }
            }
            if (w > 0) {
                System.arraycopy(data, row + full * MR, dst, d, w);
                Arrays.fill(dst, d + w, d + MR, 0f);
            }
        }
    }

    @Override
    public void packB(float[] dst, int dstOff, int j0, int cols, int p0, int kc) {
        // B(p, j) at p*ld + j: walk B row by row and deal each row's NR-float runs out to the panels.
        int full = cols / NR, w = cols - full * NR;
        for (int p = 0; p < kc; p++) {
            int row = off + (p0 + p) * ld + j0;
            int d = dstOff + p * NR;
            for (int q = 0; q < full; q++, d += NR * kc) {
                FloatVector.fromArray(S, data, row + q * NR).intoArray(dst, d);
                FloatVector.fromArray(S, data, row + q * NR + L).intoArray(dst, d + L);
            }
            if (w > 0) {
                for (int t = 0; t < NR; t++) {
                    dst[d + t] = t < w ? data[row + full * NR + t] : 0f;
                }
            }
        }
    }
}
