package org.densecl.backend.ref;

import org.densecl.backend.Check;
import org.densecl.tensor.Tensor;

/**
 * The reference GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, as three plain loops with a
 * double accumulator. Everything that is a matrix product elsewhere (linear layers, 1x1 convolutions
 * in the cpu backend, DenseCL's logits) is checked against this one.
 */
final class RefGemm {
    private RefGemm() {}

    /**
     * A: (m, k), or stored (k, m) when transA. B: (k, n), or stored (n, k) when transB. C: (m, n).
     * Only element counts are checked, because callers pass views of any shape (an NHWC activation
     * (N, H, W, C) is a (N*H*W, C) matrix).
     */
    static void gemm(boolean transA, boolean transB, int m, int n, int k,
                     double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        String op = "gemm";
        Check.that(m >= 0 && n >= 0 && k >= 0, op, "negative size m=" + m + ", n=" + n + ", k=" + k);
        RefArgs.floats(op, "a", a);
        RefArgs.floats(op, "b", b);
        RefArgs.floats(op, "c", c);
        Check.numel(op, "a (" + (transA ? "k, m" : "m, k") + ") with m=" + m + ", k=" + k, a, (long) m * k);
        Check.numel(op, "b (" + (transB ? "n, k" : "k, n") + ") with k=" + k + ", n=" + n, b, (long) k * n);
        Check.numel(op, "c (m, n) with m=" + m + ", n=" + n, c, (long) m * n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a.get((long) p * m + i) : a.get((long) i * k + p);
                    double bv = transB ? b.get((long) j * k + p) : b.get((long) p * n + j);
                    acc += av * bv;
                }
                long ci = (long) i * n + j;
                // beta == 0 means "ignore C", even when it holds NaN or infinity (BLAS semantics).
                double old = beta == 0 ? 0 : beta * c.get(ci);
                c.set(ci, alpha * acc + old);
            }
        }
    }
}
