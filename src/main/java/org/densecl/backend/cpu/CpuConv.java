package org.densecl.backend.cpu;

import org.densecl.backend.ConvGeometry;
import org.densecl.tensor.Tensor;

/** PLACEHOLDER from the skeleton commit; the GEMM helper replaces it. Same contracts as Backend's conv ops. */
public final class CpuConv {
    public CpuConv(Parallel parallel, CpuGemm gemm) {}

    public void forward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        throw new UnsupportedOperationException("conv2dForward");
    }

    public void backwardData(ConvGeometry g, Tensor dy, Tensor w, Tensor dx) {
        throw new UnsupportedOperationException("conv2dBackwardData");
    }

    public void backwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor db) {
        throw new UnsupportedOperationException("conv2dBackwardFilter");
    }
}
