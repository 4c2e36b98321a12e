package org.densecl.parity;

import java.util.stream.Stream;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.TensorAssert;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Per-pixel softmax cross-entropy with ignore_index 255 against PyTorch 1.13, both reductions:
 * "valid" is F.cross_entropy's default (sum over non-ignored pixels / their count), "all" is
 * mmsegmentation 0.x's (reduction='none' then .mean(): the same sum / ALL pixels, ignored included).
 * Logits (N, C, H, W) = (2, 5, 7, 6), 21 of 84 pixels ignored, and one pixel's logits near 100 (exp
 * overflows float32 unless the row max is subtracted). The backward runs with scale 1 (the fixture's
 * upstream gradient) and with 0.4, mmsegmentation's auxiliary-head loss weight.
 *
 * <p>Tolerances. F64: log-sum-exp over 5 classes and a sum over 84 pixels in double, ~1e-15 relative;
 * 1e-12. F32: a float32 softmax errs by a few 2^-24 relative per probability; dlogits are (p - onehot)
 * / 63 or / 84 (|dlogits| <= 0.016), so their error is ~1e-9 and atol 1e-7 is generous yet 1e-5 of their
 * scale (dividing by 84 instead of 63 is a 25% change). The loss sums 63 terms of size ~3 in float32,
 * ~1e-6 absolute on a loss of ~2.6: rtol 1e-5.
 */
class CrossEntropyParityTest {
    static final double F64_ATOL = 1e-12, F64_RTOL = 1e-12;
    static final double F32_ATOL = 1e-7, F32_RTOL = 1e-5;
    /** mmsegmentation's FCN auxiliary head weighs its loss by 0.4. */
    static final float AUX_WEIGHT = 0.4f;

    static Stream<Arguments> cases() {
        return Stream.of("valid", "all").flatMap(r -> Stream.of(
                Arguments.of(r, DType.F64), Arguments.of(r, DType.F32)));
    }

    @ParameterizedTest(name = "mean over {0} pixels, {1}")
    @MethodSource("cases")
    void matchesPyTorch(String reduction, DType dtype) {
        try (Fixture fx = Fixture.open("cross_entropy_ignore"); Backend be = new RefBackend()) {
            run(fx, be, dtype, reduction);
        }
    }

    static void run(Fixture fx, Backend be, DType dtype, String reduction) {
        double atol = dtype == DType.F64 ? F64_ATOL : F32_ATOL;
        double rtol = dtype == DType.F64 ? F64_RTOL : F32_RTOL;
        boolean averageNonIgnored = reduction.equals("valid");
        int ignore = fx.metaInt("ignore_index");
        Tensor logits4 = fx.load(be, dtype, "logits"); // (N, H, W, C)
        int c = logits4.shape().last();
        int m = (int) (logits4.numel() / c);
        Tensor logits = logits4.view(m, c); // (M, C), M = N*H*W pixels
        Tensor labels = fx.load(be, DType.I32, "labels").view(m); // (M)
        Tensor probs = be.allocate(dtype, Shape.of(m, c)); // (M, C)
        Tensor loss = be.allocate(dtype, Shape.of(1)); // (1)
        String op = "softmaxCrossEntropy " + logits.shape() + " ignore " + ignore + " mean over " + reduction;
        be.softmaxCrossEntropyForward(logits, labels, ignore, averageNonIgnored, probs, loss);
        fx.check(be, op + " forward", "loss_" + reduction, loss, atol, rtol);

        Tensor dlogits = be.allocate(dtype, logits4.shape()); // (N, H, W, C)
        be.zero(dlogits); // backward ops accumulate
        be.softmaxCrossEntropyBackward(probs, labels, ignore, averageNonIgnored, 1f, dlogits.view(m, c));
        fx.check(be, op + " backward", "dlogits_" + reduction, dlogits, atol, rtol);

        // The loss weight scales the gradient linearly: 0.4 * PyTorch's dlogits.
        be.zero(dlogits);
        be.softmaxCrossEntropyBackward(probs, labels, ignore, averageNonIgnored, AUX_WEIGHT, dlogits.view(m, c));
        Tensor want = fx.expected(be, "dlogits_" + reduction);
        double[] scaled = new double[(int) want.numel()], got = new double[scaled.length];
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] = AUX_WEIGHT * want.get(i);
            got[i] = dlogits.get(i);
        }
        TensorAssert.close(fx.name() + ": " + op + " backward, scale " + AUX_WEIGHT + " (" + dtype + ")",
                scaled, got, atol, rtol);
    }
}
