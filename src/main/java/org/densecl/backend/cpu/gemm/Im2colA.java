package org.densecl.backend.cpu.gemm;

import java.util.Arrays;

/**
 * The im2col matrix of a convolution's input as the A operand (NPQ, RSC): implicit GEMM for the forward
 * pass (Y = X_col * W^T) and for the stride-1 data gradient (a forward convolution of dY). Each packed A
 * row is one output pixel's receptive field, copied run by run from the NHWC tensor.
 */
public final class Im2colA implements ASource, MatrixRows {
    private final Im2col view;

    public Im2colA(Im2col view) {
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
    public void packA(float[] dst, int dstOff, int i0, int rows, int p0, int kc) {
        final int mr = MicroKernel.MR;
        for (int qd = 0; qd * mr < rows; qd++) {
            int base = dstOff + qd * mr * VectorGemm.KC;
            for (int t = 0; t < mr; t++) {
                int row = qd * mr + t;
                if (row < rows) {
                    view.gatherRow(i0 + row, p0, kc, dst, base + t * VectorGemm.KC);
                } else {
                    Arrays.fill(dst, base + t * VectorGemm.KC, base + t * VectorGemm.KC + kc, 0f);
                }
            }
        }
    }
}
