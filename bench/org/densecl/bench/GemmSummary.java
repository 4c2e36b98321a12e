package org.densecl.bench;

/** PLACEHOLDER from the skeleton commit; the GEMM helper replaces it. */
public final class GemmSummary {
    private GemmSummary() {}

    public static int run(String[] args) {
        throw new UnsupportedOperationException("gemm-summary");
    }
}
