package org.densecl.backend.cpu.gemm;

/**
 * Which of {@link VectorGemm}'s paths a driver may take, fixed when it is built. Every path adds the same
 * terms in the same order, so the bits never depend on these; only speed does. The defaults are the
 * fastest paths (the performance page has the comparisons); turning one off forces the general path
 * instead, which tests use to prove the bits agree and benchmarks to compare.
 *
 * @param splitK     filter-gradient GEMMs (few rows, long k, A transposed) split k across threads
 * @param wholeK     the shared-B mode packs all of B's k blocks at once when they fit
 * @param directC    whole tiles with alpha 1 and beta 0 or 1 are written to C by the micro-kernel itself
 * @param packWholeA in the whole-k variant, a transposed A is packed whole before the row blocks run
 */
public record GemmTuning(boolean splitK, boolean wholeK, boolean directC, boolean packWholeA) {

    /** Every fast path on. */
    public static final GemmTuning DEFAULT = new GemmTuning(true, true, true, true);

    public GemmTuning withSplitK(boolean on) {
        return new GemmTuning(on, wholeK, directC, packWholeA);
    }

    public GemmTuning withWholeK(boolean on) {
        return new GemmTuning(splitK, on, directC, packWholeA);
    }

    public GemmTuning withDirectC(boolean on) {
        return new GemmTuning(splitK, wholeK, on, packWholeA);
    }

    public GemmTuning withPackWholeA(boolean on) {
        return new GemmTuning(splitK, wholeK, directC, on);
    }
}
