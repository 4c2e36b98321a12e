package org.densecl.backend.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * col2im with accumulation, the adjoint of {@link Im2col}: every element of a block of rows of
 * dX_col (rows, R*S*C) is added into the input position it was gathered from,
 * <pre>  dx[n, p*strideH - padH + r*dilationH, q*strideW - padW + s*dilationW, c] += dX_col(i, (r, s, c))</pre>
 * skipping taps in the padding. Taps of different pixels land on the same dx element, so threads may not
 * split pixels; callers split channels instead ([c0, c1) slices are disjoint in dx).
 */
public final class Col2im {
    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Col2im() {}

    /**
     * Adds rows [row0, row0 + rows) of dX_col, stored densely in {@code col} (rows, R*S*C), into
     * {@code dx} (N, H, W, C), channels [c0, c1) only.
     */
    public static void scatterAdd(ConvGeometry g, MemorySegment col, long row0, int rows, MemorySegment dx,
                                  int c0, int c1) {
        int h = g.h(), w = g.w(), c = g.c(), p = g.p(), q = g.q(), r = g.r(), s = g.s();
        int rsc = r * s * c;
        int pq = p * q;
        for (int i = 0; i < rows; i++) {
            long row = row0 + i;
            int n = (int) (row / pq), rem = (int) (row - (long) n * pq);
            int op = rem / q, oq = rem - op * q;
            int ih0 = op * g.strideH() - g.padH(), iw0 = oq * g.strideW() - g.padW();
            long src = (long) i * rsc;
            for (int rr = 0; rr < r; rr++) {
                int ih = ih0 + rr * g.dilationH();
                for (int ss = 0; ss < s; ss++, src += c) {
                    int iw = iw0 + ss * g.dilationW();
                    if (ih < 0 || ih >= h || iw < 0 || iw >= w) {
                        continue;
                    }
                    long dst = (((long) n * h + ih) * w + iw) * c;
                    addRun(col, 4 * (src + c0), dx, 4 * (dst + c0), c1 - c0);
                }
            }
        }
    }

    // dx[dOff..] += col[sOff..] over len floats (byte offsets).
    private static void addRun(MemorySegment col, long sOff, MemorySegment dx, long dOff, int len) {
        int e = 0;
        for (; e + S.length() <= len; e += S.length()) {
            long o = 4L * e;
            FloatVector.fromMemorySegment(S, dx, dOff + o, LE)
                    .add(FloatVector.fromMemorySegment(S, col, sOff + o, LE))
                    .intoMemorySegment(dx, dOff + o, LE);
        }
        for (; e < len; e++) {
            long o = 4L * e;
            dx.set(MatrixPanels.F32, dOff + o, dx.get(MatrixPanels.F32, dOff + o) + col.get(MatrixPanels.F32, sOff + o));
        }
    }
}
