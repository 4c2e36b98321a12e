package org.densecl.parity;

import java.util.stream.Stream;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bilinear resize against PyTorch 1.13 (F.interpolate(mode='bilinear', size=...) and its autograd
 * backward), align_corners false and true, upsampling 5x7 -> 12x11 (factors 2.4 and 1.57) and
 * downsampling 13x11 -> 5x4 (where align_corners false skips source rows entirely, and the backward
 * leaves some dx at zero).
 *
 * <p>Tolerances. Each output is a blend of 4 inputs with weights in [0, 1] summing to 1, and each dx a
 * sum of at most ~4 * ceil(out/in)^2 ~ 36 weighted dy values. F64: PyTorch computes the source coordinate
 * as (dst + 0.5) * scale - 0.5 with scale = in/out in double too, so the weights agree to ~1e-16 and the
 * results to ~1e-15; 1e-12 still flags a coordinate off by one output pixel (an O(0.1) change). F32: the
 * weights themselves carry a float32 rounding (~6e-8 relative) if a backend computes them in float, and
 * each blend one more per term: |values| <= ~4, so atol 1e-5, rtol 1e-5.
 */
class ResizeParityTest {
    static final double F64_ATOL = 1e-12, F64_RTOL = 1e-12;
    static final double F32_ATOL = 1e-5, F32_RTOL = 1e-5;

    static Stream<Arguments> cases() {
        return Stream.of("resize_up_align_false", "resize_down_align_false", "resize_up_align_true",
                        "resize_down_align_true")
                .flatMap(f -> Stream.of(Arguments.of(f, DType.F64), Arguments.of(f, DType.F32)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesPyTorch(String name, DType dtype) {
        try (Fixture fx = Fixture.open(name); Backend be = new RefBackend()) {
            run(fx, be, dtype);
        }
    }

    static void run(Fixture fx, Backend be, DType dtype) {
        double atol = dtype == DType.F64 ? F64_ATOL : F32_ATOL;
        double rtol = dtype == DType.F64 ? F64_RTOL : F32_RTOL;
        boolean alignCorners = fx.metaBool("align_corners");
        Tensor x = fx.load(be, dtype, "x"); // (N, H, W, C)
        Tensor y = be.allocate(dtype, org.densecl.tensor.Shape.of(Fixture.channelsLastDims(fx.torchDims("y"))));
        String op = "resizeBilinear " + x.shape() + " -> " + y.shape() + " alignCorners=" + alignCorners;
        be.resizeBilinearForward(x, y, alignCorners); // y (N, OH, OW, C)
        fx.check(be, op + " forward", "y", y, atol, rtol);

        Tensor dy = fx.load(be, dtype, "dy"); // (N, OH, OW, C)
        Tensor dx = be.allocate(dtype, x.shape()); // (N, H, W, C)
        be.zero(dx); // backward ops accumulate
        be.resizeBilinearBackward(dy, dx, alignCorners);
        fx.check(be, op + " backward", "dx", dx, atol, rtol);
    }
}
