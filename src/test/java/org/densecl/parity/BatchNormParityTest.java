package org.densecl.parity;

import java.util.stream.Stream;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Training-mode batch norm against PyTorch 1.13 (F.batch_norm(training=True), momentum 0.1, eps 1e-5,
 * both as float32 numbers), alone and followed by ReLU (the backend's fused BN+ReLU): the output, the
 * saved batch mean and 1/sqrt(var + eps), the updated running mean and (unbiased) variance, and dx,
 * dgamma, dbeta. The fixture is (N, C, H, W) = (3, 7, 5, 3), M = 45 rows per channel, with channel
 * means up to +-4 and spreads down to 0.3, so a one-pass variance E[x^2] - E[x]^2 would lose digits.
 *
 * <p>Tolerances. F64: two-pass statistics and the closed-form backward in double differ from PyTorch's
 * float64 only in summation order over M = 45 rows (values O(10), 2^-53 ~ 1e-16): ~1e-14 expected;
 * 1e-12 still flags any formula slip (biased vs unbiased running variance is a 2% change). F32: storing
 * the mean (|mean| <= 4) as float32 rounds it by up to 2.4e-7, which invStd (<= 1/0.3) and gamma (~1.3)
 * scale to ~1e-6 in y and dx; a float32 backend that accumulates the statistics in float32 adds about
 * sqrt(M) * 2^-24 * |x| ~ 3e-6. atol 3e-5 and rtol 1e-5 cover that with a margin.
 */
class BatchNormParityTest {
    static final double F64_ATOL = 1e-12, F64_RTOL = 1e-12;
    static final double F32_ATOL = 3e-5, F32_RTOL = 1e-5;

    static Stream<Arguments> cases() {
        return Stream.of(false, true).flatMap(relu -> Stream.of(
                Arguments.of(relu, DType.F64), Arguments.of(relu, DType.F32)));
    }

    @ParameterizedTest(name = "relu={0} {1}")
    @MethodSource("cases")
    void matchesPyTorch(boolean relu, DType dtype) {
        try (Fixture fx = Fixture.open("batch_norm_train"); Backend be = new RefBackend()) {
            run(fx, be, dtype, relu);
        }
    }

    static void run(Fixture fx, Backend be, DType dtype, boolean relu) {
        double atol = dtype == DType.F64 ? F64_ATOL : F32_ATOL;
        double rtol = dtype == DType.F64 ? F64_RTOL : F32_RTOL;
        String sfx = relu ? "_relu" : "";
        float momentum = fx.metaFloat("momentum"), eps = fx.metaFloat("eps"); // float32-exact in the fixture

        Tensor x = fx.load(be, dtype, "x"); // (N, H, W, C)
        int c = x.shape().last();
        String op = "batchNorm" + (relu ? "+ReLU " : " ") + x.shape();
        Shape ch = Shape.of(c);
        Tensor gamma = fx.load(be, dtype, "weight"); // (C)
        Tensor beta = fx.load(be, dtype, "bias"); // (C)
        Tensor runningMean = fx.load(be, dtype, "running_mean"); // (C), updated in place
        Tensor runningVar = fx.load(be, dtype, "running_var"); // (C), updated in place
        Tensor saveMean = be.allocate(dtype, ch); // (C)
        Tensor saveInvStd = be.allocate(dtype, ch); // (C)
        Tensor y = be.allocate(dtype, x.shape()); // (N, H, W, C)
        be.batchNormTrainForward(x, gamma, beta, momentum, eps, runningMean, runningVar, saveMean, saveInvStd,
                y, relu);
        fx.check(be, op + " forward", "y" + sfx, y, atol, rtol);
        fx.check(be, op + " saved mean", "mean", saveMean, atol, rtol);
        fx.check(be, op + " saved invStd", "invstd", saveInvStd, atol, rtol);
        fx.check(be, op + " running mean", "running_mean_after", runningMean, atol, rtol);
        fx.check(be, op + " running var", "running_var_after", runningVar, atol, rtol);

        Tensor dy = fx.load(be, dtype, "dy"); // (N, H, W, C), w.r.t. the (post-ReLU) output
        Tensor dx = be.allocate(dtype, x.shape()); // (N, H, W, C)
        Tensor dgamma = be.allocate(dtype, ch); // (C)
        Tensor dbeta = be.allocate(dtype, ch); // (C)
        be.zero(dx); // backward ops accumulate
        be.zero(dgamma);
        be.zero(dbeta);
        be.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, relu ? y : null, relu, dx, dgamma, dbeta);
        fx.check(be, op + " backward", "dx" + sfx, dx, atol, rtol);
        fx.check(be, op + " backward", "dweight" + sfx, dgamma, atol, rtol);
        fx.check(be, op + " backward", "dbias" + sfx, dbeta, atol, rtol);
    }
}
