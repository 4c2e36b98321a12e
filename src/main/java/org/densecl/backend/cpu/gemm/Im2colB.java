package org.densecl.backend.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.densecl.backend.cpu.simd.Lanes;

/**
 * The im2col matrix of a convolution's input as the B operand (NPQ, RSC), pixels along k: the filter
 * gradient dW (K, RSC) += dY^T (K, NPQ) * X_col (NPQ, RSC) packs its B panels straight from x.
 */
public final class Im2colB implements BSource, MatrixRows {
    private static final VectorSpecies<Float> S = Lanes.FLOATS;
    private final Im2col view;
    // One X_col row segment per thread (grown once): packB runs on several threads at once in the
    // shared-B mode.
    private final ThreadLocal<float[]> staging = ThreadLocal.withInitial(() -> new float[0]);

    public Im2colB(Im2col view) {
        this.view = view;
    }

    @Override
    public int rowLength() {
        return view.cols();
    }

    @Override
    public void gatherRow(long row, float[] dst, int d) {
        view.gatherRow(row, 0, view.cols(), dst, d);
    }

    @Override
    public void packB(float[] dst, int dstOff, int j0, int cols, int p0, int kc) {
        // Gather each pixel's taps with bulk copies (contiguous runs of S*C or C floats), then deal the
        // row out to the panels NR floats at a time from the heap: cheaper than NR-float segment reads.
        final int nr = MicroKernel.NR;
        int padded = (cols + nr - 1) / nr * nr;
        float[] row = staging.get();
        if (row.length < padded) {
            row = new float[padded];
            staging.set(row);
        }
        java.util.Arrays.fill(row, cols, padded, 0f);
        for (int t = 0; t < kc; t++) {
            view.gatherRow(p0 + t, j0, cols, row, 0);
            int d = dstOff + t * nr;
            for (int j = 0; j < padded; j += nr, d += nr * kc) {
                FloatVector.fromArray(S, row, j).intoArray(dst, d);
                FloatVector.fromArray(S, row, j + Lanes.COUNT).intoArray(dst, d + Lanes.COUNT);
            }
        }
    }
}
