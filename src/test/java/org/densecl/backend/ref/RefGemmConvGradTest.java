package org.densecl.backend.ref;

import static org.densecl.backend.ref.RefFixtures.rand;
import static org.densecl.backend.ref.RefFixtures.zeros;
import static org.densecl.testing.GradCheck.input;

import org.densecl.backend.ConvGeometry;
import org.densecl.tensor.Tensor;
import org.densecl.testing.GradCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Finite-difference checks (F64) of the ref backend's GEMM, convolution and linear backward passes:
 * the analytic gradients each op's backward produces must match (L(x+h) - L(x-h)) / 2h for
 * L = sum(dy * y). See {@link GradCheck} for the tolerance and the accumulation check.
 */
class RefGemmConvGradTest {
    private final RefBackend ref = new RefBackend();

    @AfterEach
    void close() {
        ref.close();
    }

    /**
     * C = alpha op(A) op(B) + beta C0 for all four transpose combinations. Its gradients are
     * themselves GEMMs: dA (stored as A) += alpha dC op(B)^T (or its transpose), dB likewise,
     * dC0 += beta dC. So this checks gemm's indexing in every combination against its own calculus.
     */
    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void gemmAllTransposes(boolean transA, boolean transB) {
        int m = 3, n = 5, k = 4;
        float alpha = 0.75f, beta = -0.5f;
        Tensor a = transA ? rand(ref, 1, k, m) : rand(ref, 1, m, k);
        Tensor b = transB ? rand(ref, 2, n, k) : rand(ref, 2, k, n);
        Tensor c0 = rand(ref, 3, m, n);
        Tensor da = zeros(ref, a.shape().dims()), db = zeros(ref, b.shape().dims()), dc0 = zeros(ref, m, n);
        Tensor c = zeros(ref, m, n), dc = zeros(ref, m, n);
        Runnable forward = () -> {
            ref.copy(c0, c);
            ref.gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
        };
        Runnable backward = () -> {
            // op(A) = dC op(B)^T scaled by alpha: stored A is op(A) or its transpose.
            if (!transA) {
                ref.gemm(false, !transB, m, k, n, alpha, dc, b, 1f, da); // (m,n) x op(B)^T (n,k)
            } else {
                ref.gemm(transB, true, k, m, n, alpha, b, dc, 1f, da); // op(B) (k,n) x dC^T (n,m)
            }
            if (!transB) {
                ref.gemm(!transA, false, k, n, m, alpha, a, dc, 1f, db); // op(A)^T (k,m) x dC (m,n)
            } else {
                ref.gemm(true, transA, n, k, m, alpha, dc, a, 1f, db); // dC^T (n,m) x op(A) (m,k)
            }
            ref.axpy(beta, dc, dc0);
        };
        GradCheck.check("gemm(transA=" + transA + ", transB=" + transB + ", m=3, n=5, k=4)", forward, c, dc,
                backward, input("A", a, da), input("B", b, db), input("C0", c0, dc0));
    }

    /** Convolutions of awkward geometry: (N, H, W, C, K, R, S, stride, pad, dilation, bias). */
    @ParameterizedTest(name = "N={0} H={1} W={2} C={3} K={4} R={5} S={6} stride={7}x{8} pad={9}x{10} dil={11}x{12} bias={13}")
    @CsvSource({
            "2, 5, 6, 3, 4, 3, 3, 1, 1, 1, 1, 1, 1, true",   // plain 3x3 'same' conv, odd channels
            "1, 7, 6, 3, 5, 3, 3, 2, 2, 1, 1, 1, 1, false",  // stride 2 on even and odd sizes
            "1, 7, 7, 2, 3, 3, 3, 1, 1, 2, 2, 2, 2, true",   // dilation 2 with padding 2 (ResNet-D8 style)
            "1, 9, 8, 3, 2, 7, 7, 2, 2, 3, 3, 1, 1, false",  // ResNet's 7x7 stride-2 stem, small
            "2, 6, 7, 3, 2, 2, 3, 2, 1, 0, 1, 1, 2, true",   // non-square kernel, stride, pad, dilation
            "1, 4, 5, 5, 3, 1, 1, 1, 1, 0, 0, 1, 1, true",   // pointwise (a GEMM)
            "1, 5, 5, 1, 1, 5, 5, 1, 1, 0, 0, 1, 1, false",  // kernel covering the whole input, P = Q = 1
    })
    void conv2d(int n, int h, int w, int c, int k, int r, int s, int sh, int sw, int ph, int pw, int dh, int dw,
                boolean bias) {
        ConvGeometry g = new ConvGeometry(n, h, w, c, k, r, s, sh, sw, ph, pw, dh, dw);
        Tensor x = rand(ref, 11, n, h, w, c), wt = rand(ref, 12, k, r, s, c);
        Tensor b = bias ? rand(ref, 13, k) : null;
        Tensor y = zeros(ref, g.yShape().dims()), dy = zeros(ref, g.yShape().dims());
        Tensor dx = zeros(ref, n, h, w, c), dw2 = zeros(ref, k, r, s, c), db = bias ? zeros(ref, k) : null;
        Runnable forward = () -> ref.conv2dForward(g, x, wt, b, y);
        Runnable backward = () -> {
            ref.conv2dBackwardData(g, dy, wt, dx);
            ref.conv2dBackwardFilter(g, x, dy, dw2, db);
        };
        if (bias) {
            GradCheck.check("conv2d " + g, forward, y, dy, backward,
                    input("x", x, dx), input("w", wt, dw2), input("bias", b, db));
        } else {
            GradCheck.check("conv2d " + g, forward, y, dy, backward, input("x", x, dx), input("w", wt, dw2));
        }
    }

    /** linearForward/linearBackward (Backend defaults built on gemm, biasAdd, biasBackward). */
    @ParameterizedTest(name = "bias={0}")
    @CsvSource({"true", "false"})
    void linear(boolean bias) {
        int n = 3, in = 5, out = 4;
        Tensor x = rand(ref, 21, n, in), w = rand(ref, 22, out, in), b = bias ? rand(ref, 23, out) : null;
        Tensor y = zeros(ref, n, out), dy = zeros(ref, n, out);
        Tensor dx = zeros(ref, n, in), dw = zeros(ref, out, in), db = bias ? zeros(ref, out) : null;
        Runnable forward = () -> ref.linearForward(x, w, b, y);
        Runnable backward = () -> ref.linearBackward(x, w, dy, dx, dw, db);
        if (bias) {
            GradCheck.check("linear (3,5)->(3,4)", forward, y, dy, backward,
                    input("x", x, dx), input("w", w, dw), input("b", b, db));
        } else {
            GradCheck.check("linear (3,5)->(3,4)", forward, y, dy, backward, input("x", x, dx), input("w", w, dw));
        }
    }

    /** biasAdd on an NHWC tensor (the conv-bias path) against biasBackward. */
    @Test
    void biasAddOnNhwc() {
        Tensor x = rand(ref, 31, 1, 3, 2, 5), b = rand(ref, 32, 5);
        Tensor y = zeros(ref, 1, 3, 2, 5), dy = zeros(ref, 1, 3, 2, 5);
        Tensor dx = zeros(ref, 1, 3, 2, 5), db = zeros(ref, 5);
        GradCheck.check("biasAdd (1,3,2,5)+(5)", () -> {
            ref.copy(x, y);
            ref.biasAdd(y, b);
        }, y, dy, () -> {
            ref.axpy(1f, dy, dx);
            ref.biasBackward(dy, db);
        }, input("x", x, dx), input("b", b, db));
    }
}
