package org.densecl.backend.cpu;

import org.densecl.backend.cpu.gemm.GemmTuning;

/**
 * How the cpu backend computes, fixed when it is built ({@link CpuBackend#CpuBackend(int, CpuTuning)}):
 * the GEMM provider and which convolution and GEMM variants it may take. Benchmarks build backends with
 * variants to compare them, tests to prove the variants give the same bits (all but the stem's filter gradient,
 * which sums by output rows; its test checks it against the reference for any thread count); nothing is
 * switched globally.
 *
 * @param gemm     "vector" (pure Java, always there) or "openblas" (cblas_sgemm through FFM)
 * @param winograd 3x3 stride-1 convolutions by Winograd F(4x4, 3x3) (false: implicit GEMM, as the others)
 * @param stemConv the RGB stem's forward and filter gradient (C * strideW = 6) by direct kernels (false:
 *                 implicit GEMM); the forward's bits are the GEMM's, the filter gradient's are not
 * @param transposedFilterGradient 1x1 filter gradients with more output than input channels (and many pixels)
 *                 as dW^T = X^T dY, so that the operand the GEMM packs transposed is the narrower one (false:
 *                 always dW = dY^T X); the same bits either way
 * @param gemmPaths which paths the vector GEMM driver may take
 */
public record CpuTuning(String gemm, boolean winograd, boolean stemConv, boolean transposedFilterGradient,
                        GemmTuning gemmPaths) {

    /** The vector GEMM with every fast path. */
    public static final CpuTuning DEFAULT = new CpuTuning("vector", true, true, true, GemmTuning.DEFAULT);

    public CpuTuning {
        if (!CpuGemm.PROVIDERS.contains(gemm)) {
            throw new IllegalArgumentException("unknown GEMM provider '" + gemm + "'; choose one of " + CpuGemm.PROVIDERS);
        }
    }

    public CpuTuning withGemm(String provider) {
        return new CpuTuning(provider, winograd, stemConv, transposedFilterGradient, gemmPaths);
    }

    public CpuTuning withWinograd(boolean on) {
        return new CpuTuning(gemm, on, stemConv, transposedFilterGradient, gemmPaths);
    }

    public CpuTuning withStemConv(boolean on) {
        return new CpuTuning(gemm, winograd, on, transposedFilterGradient, gemmPaths);
    }

    public CpuTuning withGemmPaths(GemmTuning paths) {
        return new CpuTuning(gemm, winograd, stemConv, transposedFilterGradient, paths);
    }

    public CpuTuning withTransposedFilterGradient(boolean on) {
        return new CpuTuning(gemm, winograd, stemConv, on, gemmPaths);
    }
}
