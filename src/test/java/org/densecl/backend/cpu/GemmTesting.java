package org.densecl.backend.cpu;

import org.densecl.backend.blas.OpenBlas;
import org.densecl.backend.cpu.parallel.Parallel;
import org.junit.jupiter.api.Assumptions;

/** What the cpu GEMM and conv tests share: provider set-up with a visible skip, and the tolerance rule. */
final class GemmTesting {
    /** Unit roundoff of f32 (2^-24). */
    static final double U = 0x1p-24;

    private static volatile boolean warned;

    private GemmTesting() {}

    /**
     * A CpuGemm for {@code provider}; for "openblas" the test is skipped, with the loader's explanation,
     * when the library cannot be loaded (never a silent pass).
     */
    static CpuGemm provider(Parallel parallel, String provider) {
        if (provider.startsWith("openblas")) {
            String reason = OpenBlas.unavailableReason();
            if (reason != null && !warned) {
                // Surefire's console shows only a skip count; say why once, where a reader will see it.
                System.err.println("OpenBLAS tests SKIPPED: " + reason);
                warned = true;
            }
            Assumptions.assumeTrue(reason == null, () -> "SKIPPED openblas provider: " + reason);
        }
        if (provider.startsWith(OPENBLAS_BLOCKS)) {
            int floats = Integer.parseInt(provider.substring(OPENBLAS_BLOCKS.length()));
            return new CpuGemm(parallel, "openblas", org.densecl.backend.cpu.gemm.GemmTuning.DEFAULT, floats);
        }
        return new CpuGemm(parallel, provider);
    }

    /**
     * "openblas-blocks-N": OpenBLAS with views (im2col, the rotated filter) written out N floats at a time
     * at most, so that small test convolutions take many blocks (the default block holds a million).
     */
    static final String OPENBLAS_BLOCKS = "openblas-blocks-";

    /**
     * Absolute tolerance for a sum of {@code terms} f32 products of magnitude at most 1, against the
     * reference's double accumulation. Each f32 addition rounds by at most U times the running sum; on
     * random data of either sign the running sum stays around sqrt(terms) and there are `terms`
     * additions, so the error is at most about terms * sqrt(terms) * U when the roundings all align
     * (typically far less: they partly cancel). The factor 2 covers alpha/beta scaling and the final
     * store rounding. A wrong index or a dropped term costs about 0.1 or more, far above this.
     */
    static double atol(long terms) {
        return 2 * U * terms * Math.sqrt(terms) + 1e-7;
    }

    /** Relative part: a few ulps for the scaling by alpha and beta and the reference's own f32 rounding. */
    static final double RTOL = 8 * U;
}
