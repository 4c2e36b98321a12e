package org.densecl.parity;

import java.util.stream.Stream;
import org.densecl.backend.Backend;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * conv2d forward, backward-data and backward-filter (+ bias) of the reference backend against PyTorch
 * 1.13 (F.conv2d and autograd, float64): stride 2 with bias, dilation 2, and the 7x7 stride-2 stem.
 *
 * <p>Tolerances. F64: the reference accumulates in double, as PyTorch's float64 does, so the results
 * differ only by summation order: at most ~L * 2^-53 * sum|terms| for L <= 294 terms (the filter
 * gradient of the stem sums N*P*Q = 144 products, backward data up to K*R*S = 245) of size O(1), a few
 * 1e-14; 1e-12 leaves room and still catches any real slip (a missed tap is O(0.1)). F32: the inputs
 * are exact float32 numbers, so the error is the backend's own float32 arithmetic. A float32 dot product
 * of L terms errs by about sqrt(L) * 2^-24 * |typical sum| (~1e-6 here); atol 2e-5 and rtol 1e-5 hold a
 * float32 backend that accumulates in float32 while any wrong index still fails by orders of magnitude.
 */
class Conv2dParityTest {
    static final double F64_ATOL = 1e-12, F64_RTOL = 1e-12;
    static final double F32_ATOL = 2e-5, F32_RTOL = 1e-5;

    static Stream<Arguments> cases() {
        return Stream.of("conv2d_stride2", "conv2d_dilation2", "conv2d_7x7_stride2")
                .flatMap(f -> Stream.of(Arguments.of(f, DType.F64), Arguments.of(f, DType.F32)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesPyTorch(String name, DType dtype) {
        try (Fixture fx = Fixture.open(name); Backend be = new RefBackend()) {
            run(fx, be, dtype);
        }
    }

    /** Runs the three conv ops of fixture {@code fx} on {@code be} in {@code dtype} and compares. */
    static void run(Fixture fx, Backend be, DType dtype) {
        double atol = dtype == DType.F64 ? F64_ATOL : F32_ATOL;
        double rtol = dtype == DType.F64 ? F64_RTOL : F32_RTOL;
        int[] xd = fx.torchDims("x"); // (N, C, H, W)
        int[] wd = fx.torchDims("weight"); // (K, C, R, S)
        int stride = fx.metaInt("stride"), pad = fx.metaInt("padding"), dil = fx.metaInt("dilation");
        ConvGeometry g = new ConvGeometry(xd[0], xd[2], xd[3], xd[1], wd[0], wd[2], wd[3],
                stride, stride, pad, pad, dil, dil);
        boolean bias = fx.metaBool("bias");
        String op = "conv2d " + g;

        Tensor x = fx.load(be, dtype, "x"); // (N, H, W, C)
        Tensor w = fx.load(be, dtype, "weight"); // (K, R, S, C)
        Tensor b = bias ? fx.load(be, dtype, "bias") : null; // (K)
        Tensor y = be.allocate(dtype, g.yShape()); // (N, P, Q, K)
        be.conv2dForward(g, x, w, b, y);
        fx.check(be, op + " forward", "y", y, atol, rtol);

        Tensor dy = fx.load(be, dtype, "dy"); // (N, P, Q, K)
        Tensor dx = be.allocate(dtype, g.xShape()); // (N, H, W, C)
        Tensor dw = be.allocate(dtype, g.wShape()); // (K, R, S, C)
        Tensor db = bias ? be.allocate(dtype, org.densecl.tensor.Shape.of(g.k())) : null; // (K)
        be.zero(dx); // backward ops accumulate
        be.zero(dw);
        if (db != null) {
            be.zero(db);
        }
        be.conv2dBackwardData(g, dy, w, dx);
        be.conv2dBackwardFilter(g, x, dy, dw, db);
        fx.check(be, op + " backward data", "dx", dx, atol, rtol);
        fx.check(be, op + " backward filter", "dweight", dw, atol, rtol);
        if (bias) {
            fx.check(be, op + " backward bias", "dbias", db, atol, rtol);
        }
    }
}
