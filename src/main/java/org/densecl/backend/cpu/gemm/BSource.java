package org.densecl.backend.cpu.gemm;

/**
 * The right operand B (k, n) of a blocked GEMM, as the driver asks for it: blocks of columns packed into
 * {@code NR}-column panels in which each k step holds NR values side by side (one or two vector loads),
 * <pre>  dst[dstOff + q*NR*kc + (p - p0)*NR + t] = B(p, j0 + q*NR + t)</pre>
 * Columns past {@code j0 + cols} are zero-filled. Implementations may be called from several threads at
 * once on disjoint column ranges.
 *
 * <p>Implementations: a plain matrix ({@link MatrixPanels}) or the im2col matrix of an NHWC tensor with
 * pixels as k ({@link Im2colB}, for the filter gradient).
 */
public interface BSource {

    /** Packs columns [j0, j0 + cols) x rows [p0, p0 + kc) into ceil(cols / NR) panels from dstOff on. */
    void packB(float[] dst, int dstOff, int j0, int cols, int p0, int kc);
}
