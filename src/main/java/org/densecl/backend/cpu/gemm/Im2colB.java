package org.densecl.backend.cpu.gemm;

/**
 * The im2col matrix of a convolution's input as the B operand (NPQ, RSC), pixels along k: the filter
 * gradient dW (K, RSC) += dY^T (K, NPQ) * X_col (NPQ, RSC) packs its B panels straight from x.
 */
public final class Im2colB implements BSource {
    private final Im2col view;

    public Im2colB(Im2col view) {
        this.view = view;
    }

    @Override
    public void packB(float[] dst, int dstOff, int j0, int cols, int p0, int kc) {
        final int nr = MicroKernel.NR;
        for (int qd = 0; qd * nr < cols; qd++) {
            int width = Math.min(nr, cols - qd * nr);
            view.gatherPanel(p0, kc, j0 + qd * nr, width, dst, dstOff + qd * nr * kc);
        }
    }
}
