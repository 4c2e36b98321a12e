package org.densecl.backend.cpu;

import org.densecl.tensor.Tensor;

/** PLACEHOLDER from the skeleton commit; the GEMM helper replaces it. Same contract as Backend.gemm. */
public final class CpuGemm {
    public CpuGemm(Parallel parallel, String provider) {}

    public void gemm(boolean transA, boolean transB, int m, int n, int k,
                     float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        throw new UnsupportedOperationException("gemm");
    }
}
