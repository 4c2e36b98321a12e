package org.densecl.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.densecl.backend.blas.OpenBlas;
import org.densecl.backend.cpu.gemm.ASource;
import org.densecl.backend.cpu.gemm.BSource;
import org.densecl.backend.cpu.gemm.MatrixPanels;
import org.densecl.backend.cpu.gemm.MatrixRows;
import org.densecl.backend.cpu.parallel.Parallel;

/**
 * The openblas provider of {@link CpuGemm#run}: C = alpha * A * B + beta * C with A and B as the vector
 * driver takes them ({@link ASource}, {@link BSource}), through cblas_sgemm. Plain matrices
 * ({@link MatrixPanels}) go to OpenBLAS as they are; views ({@link MatrixRows}: im2col, the rotated
 * filter) are written out block by block into a workspace that grows once and is reused:
 * <ul>
 *   <li>A a view (forward, stride-1 data gradient): blocks of A's rows, each one sgemm into C's rows;
 *       B is then plain or small (a rotated filter), and is written out whole.</li>
 *   <li>A plain and B a view (filter gradient: B = X_col with pixels along k): blocks of k, each one
 *       sgemm adding into C (beta for the first block, then 1), as the serial sum over k would.</li>
 * </ul>
 * A block holds at most {@code blockFloats} floats, so it stays in L3 between its writing and the sgemm.
 * Not thread-safe: CpuGemm serialises its calls.
 */
final class OpenBlasGemm {
    private final Parallel parallel;
    private final OpenBlas blas;
    private final int blockFloats;
    // Arena.ofAuto: OpenBLAS reads these only inside a call made while this object holds them.
    private MemorySegment aWork = MemorySegment.NULL; // (rows, k): a block of a view A's rows
    private MemorySegment bWork = MemorySegment.NULL; // (k or a block of k, n): a view B's rows
    private final float[][] rowBuffers;               // per thread: one row of a view, staged on the heap

    OpenBlasGemm(Parallel parallel, OpenBlas blas, int blockFloats) {
        if (blockFloats < 1) {
            throw new IllegalArgumentException("OpenBlasGemm: blockFloats must be positive, got " + blockFloats);
        }
        this.parallel = parallel;
        this.blas = blas;
        this.blockFloats = blockFloats;
        this.rowBuffers = new float[parallel.threads()][];
    }

    /** C's element (i, j) is the float at byte {@code cOff + 4 * (i * ldc + j)}. Sizes are positive. */
    void run(int m, int n, int k, float alpha, ASource a, BSource b, float beta, MemorySegment c, long cOff,
             int ldc) {
        MemorySegment cc = cOff == 0 ? c : c.asSlice(cOff);
        if (a instanceof MatrixPanels pa && b instanceof MatrixRows viewB) {
            int block = blockRows(k, n);
            for (int p0 = 0; p0 < k; p0 += block) {
                int kc = Math.min(block, k - p0);
                bWork = write(viewB, p0, kc, n, bWork);
                // Columns [p0, p0 + kc) of op(A): rows p0.. of a stored A^T, or an offset into each row of A.
                long aOff = pa.transposed() ? 4L * p0 * pa.leadingDimension() : 4L * p0;
                blas.sgemm(pa.transposed(), false, m, n, kc, alpha, pa.segment().asSlice(aOff), pa.leadingDimension(),
                        bWork, n, p0 == 0 ? beta : 1f, cc, ldc);
            }
            return;
        }
        MemorySegment bSeg;
        int ldb;
        boolean transB;
        if (b instanceof MatrixPanels pb) {
            bSeg = pb.segment();
            ldb = pb.leadingDimension();
            transB = pb.transposed();
        } else {
            bWork = write(rowsOf(b), 0, k, n, bWork);
            bSeg = bWork;
            ldb = n;
            transB = false;
        }
        if (a instanceof MatrixPanels pa) {
            blas.sgemm(pa.transposed(), transB, m, n, k, alpha, pa.segment(), pa.leadingDimension(), bSeg, ldb, beta,
                    cc, ldc);
            return;
        }
        MatrixRows viewA = rowsOf(a);
        int block = blockRows(m, k);
        for (int i0 = 0; i0 < m; i0 += block) {
            int rows = Math.min(block, m - i0);
            aWork = write(viewA, i0, rows, k, aWork);
            blas.sgemm(false, transB, rows, n, k, alpha, aWork, k, bSeg, ldb, beta, cc.asSlice(4L * i0 * ldc), ldc);
        }
    }

    // work (rows, cols) = rows [row0, row0 + rows) of the view, the workspace grown to fit. Parallel axis: rows.
    private MemorySegment write(MatrixRows view, long row0, int rows, int cols, MemorySegment work) {
        check(view.rowLength() == cols, "a view's rows hold " + view.rowLength() + " floats, the GEMM needs " + cols);
        if (work.byteSize() < 4L * rows * cols) {
            work = Arena.ofAuto().allocate(4L * rows * cols, 64);
        }
        MemorySegment dst = work;
        int parts = Math.min(parallel.threads(), rows);
        for (int t = 0; t < parts; t++) {
            if (rowBuffers[t] == null || rowBuffers[t].length < cols) {
                rowBuffers[t] = new float[cols];
            }
        }
        parallel.forEach(parts, part -> {
            float[] buf = rowBuffers[part];
            long start = (long) rows * part / parts, end = (long) rows * (part + 1) / parts;
            for (long i = start; i < end; i++) {
                view.gatherRow(row0 + i, buf, 0);
                MemorySegment.copy(buf, 0, dst, CpuGemm.F32, 4 * i * cols, cols);
            }
        });
        return work;
    }

    // Rows per block: as many whole rows of `cols` floats as fit blockFloats, at least one.
    private int blockRows(int rows, int cols) {
        return Math.max(1, Math.min(rows, blockFloats / cols));
    }

    private static MatrixRows rowsOf(Object operand) {
        if (operand instanceof MatrixRows rows) {
            return rows;
        }
        throw new IllegalArgumentException("OpenBlasGemm: " + operand.getClass().getSimpleName()
                + " is neither a plain matrix nor a view that writes out its rows");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalArgumentException("OpenBlasGemm: " + what);
        }
    }
}
