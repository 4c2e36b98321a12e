package org.densecl.backend.cpu.gemm;

/**
 * A GEMM operand given as a view (an im2col matrix, a rotated filter) that can also write out whole rows.
 * The vector driver never needs it: it packs panels straight from the view. A provider that takes only
 * plain row-major matrices (OpenBLAS) uses it to materialise the view one block of rows at a time.
 */
public interface MatrixRows {

    /** Floats per row. */
    int rowLength();

    /** dst[d .. d + rowLength()) = row {@code row}, whole. Callable from several threads at once. */
    void gatherRow(long row, float[] dst, int d);
}
