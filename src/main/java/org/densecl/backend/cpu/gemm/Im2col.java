package org.densecl.backend.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * The im2col matrix of an NHWC tensor, never materialised: row i is output pixel (n, p, q) in NPQ
 * order, column j is filter tap (r, s, c) in RSC order, and
 * <pre>  X_col(i, j) = x[n, p*strideH - padH + r*dilationH, q*strideW - padW + s*dilationW, c]</pre>
 * or 0 where that position falls in the padding. Convolution forward is then Y = X_col * W^T, the filter
 * gradient dW = dY^T * X_col, the data gradient col2im(dY * W). This class copies pieces of it out:
 * {@link #gatherRow} copies a piece of one row, run by run (a run is contiguous in x: S*C floats of
 * one kernel row when dilationW is 1, else C).
 *
 * <p>Set up per call with {@link #set}; not thread-safe to {@link #set}, but gathers may run on several
 * threads at once.
 */
public final class Im2col {
    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private MemorySegment x;
    private int h, w, c, p, q, s, sh, sw, ph, pw, dh, dw, sc, cols;

    /** Points this view at {@code x} (N, H, W, C) with geometry {@code g}. */
    public Im2col set(MemorySegment x, ConvGeometry g) {
        return set(x, g.h(), g.w(), g.c(), g.p(), g.q(), g.r(), g.s(), g.strideH(), g.strideW(), g.padH(),
                g.padW(), g.dilationH(), g.dilationW());
    }

    /**
     * The same with the sizes spelled out: input (N, h, w, c), output pixels (N, p, q), kernel (r, s).
     * The stride-1 data gradient uses it for its transposed geometry without building a ConvGeometry.
     */
    public Im2col set(MemorySegment x, int h, int w, int c, int p, int q, int r, int s,
                      int strideH, int strideW, int padH, int padW, int dilationH, int dilationW) {
        this.x = x;
        this.h = h;
        this.w = w;
        this.c = c;
        this.p = p;
        this.q = q;
        this.s = s;
        sh = strideH;
        sw = strideW;
        ph = padH;
        pw = padW;
        dh = dilationH;
        dw = dilationW;
        sc = s * c;
        cols = r * sc;
        return this;
    }

    /** Forgets the tensor. */
    public void clear() {
        x = null;
    }

    /** Number of columns, R*S*C. */
    public int cols() {
        return cols;
    }

    /** dst[d .. d + len) = X_col(row, col0 .. col0 + len), with bulk copies of each contiguous run. */
    public void gatherRow(long row, int col0, int len, float[] dst, int d) {
        int pq = p * q;
        int n = (int) (row / pq), rem = (int) (row - (long) n * pq);
        int op = rem / q, oq = rem - op * q;
        int ih0 = op * sh - ph, iw0 = oq * sw - pw;
        int col = col0, end = col0 + len;
        while (col < end) {
            int r = col / sc, u = col - r * sc;
            int ih = ih0 + r * dh;
            if (dw == 1) {
                // Taps (s, c) of kernel row r are contiguous in x: u = s*C + c is the offset from (ih, iw0).
                int runEnd = Math.min(end, (r + 1) * sc);
                int uEnd = u + runEnd - col;
                if (ih < 0 || ih >= h) {
                    Arrays.fill(dst, d, d + (uEnd - u), 0f);
                } else {
                    int lo = Math.max(0, -iw0) * c, hi = Math.min(s, w - iw0) * c; // valid u: [lo, hi)
                    long base = (((long) n * h + ih) * w + iw0) * c;
                    int a = Math.min(uEnd, Math.max(u, lo)), b = Math.max(a, Math.min(uEnd, hi));
                    Arrays.fill(dst, d, d + (a - u), 0f);
                    copy(base + a, dst, d + (a - u), b - a);
                    Arrays.fill(dst, d + (b - u), d + (uEnd - u), 0f);
                }
                d += uEnd - u;
                col = runEnd;
            } else {
                // Dilated along W: only the C channels of one tap are contiguous.
                int si = u / c, ci = u - si * c;
                int runEnd = Math.min(end, r * sc + (si + 1) * c);
                int iw = iw0 + si * dw;
                int len1 = runEnd - col;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) {
                    Arrays.fill(dst, d, d + len1, 0f);
                } else {
                    copy((((long) n * h + ih) * w + iw) * c + ci, dst, d, len1);
                }
                d += len1;
                col = runEnd;
            }
        }
    }

    // Runs of one vector up to 64 floats go through vector registers: a bulk-copy call costs more than the
    // copy itself at that length, and a B panel row (NR floats) is the commonest run of all. Runs shorter
    // than a vector (a gray stem's 7 taps) take the bulk copy rather than a bounds-checked segment read
    // per float.
    private void copy(long src, float[] dst, int d, int len) {
        if (len == 0) {
            return; // a run wholly in the padding: src may point outside x
        }
        if (len > 64 || len < S.length()) {
            MemorySegment.copy(x, MatrixPanels.F32, 4 * src, dst, d, len);
            return;
        }
        int e = 0;
        for (; e + S.length() <= len; e += S.length()) {
            FloatVector.fromMemorySegment(S, x, 4 * (src + e), ByteOrder.LITTLE_ENDIAN).intoArray(dst, d + e);
        }
        if (e < len) {
            // The tail as one whole vector that ends where the run ends, overlapping the one before: the
            // stem's runs are 21 floats (7 taps x 3 channels), and a 5-float scalar tail per run is slow.
            e = len - S.length();
            FloatVector.fromMemorySegment(S, x, 4 * (src + e), ByteOrder.LITTLE_ENDIAN).intoArray(dst, d + e);
        }
    }
}
