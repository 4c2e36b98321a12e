package org.densecl.backend.cpu.gemm;

/**
 * The left operand A (m, k) of a blocked GEMM, as the driver asks for it: blocks of rows packed into
 * {@code MR}-row panels, in one of two layouts, whichever the source can write with straight copies:
 * <pre>
 *   rows (default):  dst[dstOff + q*MR*KC + t*KC + (p - p0)] = A(i0 + q*MR + t, p)
 *   interleaved:     dst[dstOff + q*MR*kc + (p - p0)*MR + t] = A(i0 + q*MR + t, p)
 * </pre>
 * (KC = {@link VectorGemm#KC}, a constant row stride even when kc < KC, so that the micro-kernel
 * addresses the four rows with constant displacements instead of four index registers.)
 * for p in [p0, p0 + kc) and t in [0, MR). Rows past {@code i0 + rows} are zero-filled, so edge
 * panels need no special kernel.
 *
 * <p>Both work because the micro-kernel broadcasts A one element at a time, and a broadcast is a scalar
 * load wherever the element sits. So a row-major A (and an im2col row of an NHWC tensor, contiguous
 * along C) packs rows, and a transposed A (dY^T in the filter gradient, stored (k, m)) packs interleaved;
 * neither pays for a transpose.
 *
 * <p>Implementations: a plain matrix ({@link MatrixPanels}) or im2col rows gathered straight from an
 * NHWC tensor ({@link Im2colA}), so no column matrix is ever materialised.
 */
public interface ASource {

    /** Packs rows [i0, i0 + rows) x columns [p0, p0 + kc) into ceil(rows / MR) panels from dstOff on. */
    void packA(float[] dst, int dstOff, int i0, int rows, int p0, int kc);

    /** True if {@link #packA} writes the interleaved layout. */
    default boolean interleaved() {
        return false;
    }
}
