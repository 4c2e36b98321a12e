package org.densecl.backend.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.ConvGeometry;

/**
 * The im2col matrix of an NHWC tensor, never materialised: row i is output pixel (n, p, q) in NPQ
 * order, column j is filter tap (r, s, c) in RSC order, and
 * <pre>  X_col(i, j) = x[n, p*strideH - padH + r*dilationH, q*strideW - padW + s*dilationW, c]</pre>
 * or 0 where that position falls in the padding. Convolution forward is then Y = X_col * W^T, the filter
 * gradient dW = dY^T * X_col, the data gradient col2im(dY * W). This class copies pieces of it out:
 * {@link #gatherRow} a run of one row (contiguous along C in x), {@link #gatherPanel} a 16-column
 * piece of one row.
 *
 * <p>Set up per call with {@link #set}; the column table is grown once and reused. Not thread-safe to
 * {@link #set}, but the gathers may run on several threads at once.
 */
public final class Im2col {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    private MemorySegment x;
    private int h, w, c, p, q, s, sh, sw, ph, pw, dh, dw, sc, cols;
    private int spanH, spanW;    // dilation * (R - 1): how far the receptive field reaches past its corner
    private int[] colOffset = new int[0]; // (R*S*C): element offset of tap j from the pixel's corner (n, ih0, iw0)

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
        spanH = dh * (r - 1);
        spanW = dw * (s - 1);
        if (colOffset.length < cols) {
            colOffset = new int[cols];
        }
        for (int j = 0; j < cols; j++) {
            int rr = j / sc, u = j - rr * sc, si = u / c, ci = u - si * c;
            colOffset[j] = (rr * dh * w + si * dw) * c + ci;
        }
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

    /**
     * Packs X_col(rows [p0, p0 + kc), cols [j, j + width)) as a B panel: for each row, {@code width} values
     * at dst[d + (row - p0) * NR], zero-padded to NR. Rows are walked pixel by pixel without divisions; a
     * pixel whose receptive field is inside the image (most of them) takes a table-driven gather, or two
     * vector copies when the 16 taps are contiguous in x.
     */
    void gatherPanel(long p0, int kc, int j, int width, float[] dst, int d) {
        final int nr = MicroKernel.NR;
        boolean contiguous = width == nr && colOffset[j + nr - 1] - colOffset[j] == nr - 1;
        int pq = p * q;
        int n = (int) (p0 / pq), rem = (int) (p0 - (long) n * pq);
        int op = rem / q, oq = rem - op * q;
        for (int t = 0; t < kc; t++, d += nr) {
            int ih0 = op * sh - ph, iw0 = oq * sw - pw;
            long corner = (((long) n * h + ih0) * w + iw0) * c;
            boolean inside = ih0 >= 0 && iw0 >= 0 && ih0 + spanH < h && iw0 + spanW < w;
            if (inside && contiguous) {
                copy(corner + colOffset[j], dst, d, nr);
            } else if (inside) {
                for (int e = 0; e < width; e++) {
                    dst[d + e] = x.getAtIndex(MatrixPanels.F32, corner + colOffset[j + e]);
                }
                Arrays.fill(dst, d + width, d + nr, 0f);
            } else {
                for (int e = 0; e < width; e++) {
                    int jj = j + e, r = jj / sc, u = jj - r * sc, si = u / c;
                    int ih = ih0 + r * dh, iw = iw0 + si * dw;
                    boolean valid = ih >= 0 && ih < h && iw >= 0 && iw < w;
                    dst[d + e] = valid ? x.getAtIndex(MatrixPanels.F32, corner + colOffset[jj]) : 0f;
                }
                Arrays.fill(dst, d + width, d + nr, 0f);
            }
            if (++oq == q) {
                oq = 0;
                if (++op == p) {
                    op = 0;
                    n++;
                }
            }
        }
    }

    // Runs up to 64 floats go through vector registers: a bulk-copy call costs more than the copy itself
    // at that length, and a B panel row (16 floats) is the commonest run of all.
    private void copy(long src, float[] dst, int d, int len) {
        if (len > 64) {
            MemorySegment.copy(x, MatrixPanels.F32, 4 * src, dst, d, len);
            return;
        }
        int e = 0;
        for (; e + S.length() <= len; e += S.length()) {
            FloatVector.fromMemorySegment(S, x, 4 * (src + e), ByteOrder.LITTLE_ENDIAN).intoArray(dst, d + e);
        }
        for (; e < len; e++) {
            dst[d + e] = x.getAtIndex(MatrixPanels.F32, src + e);
        }
    }
}
