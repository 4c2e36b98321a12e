package org.densecl.seg;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.nn.Activations;
import org.densecl.nn.Init;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.GradCheck;
import org.densecl.testing.Rand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * FcnHead's backward against central differences of L = sum(dy * logits), in F64 on the reference backend:
 * EVERY element of every trainable tensor and of the input map, for the four shapes of the head (with and
 * without conv_cat, with and without dropout). Dropout is a fixed function here: its channels are chosen by
 * the seed passed to forward, the same in every forward of a check; p = 0.5 so that both dropped and kept
 * channels occur (asserted). GradCheck pre-fills every gradient with random values, so this also proves
 * that backward ADDS into dx and the parameter gradients.
 *
 * <p>Sizes are awkward on purpose (5x6 maps, 7 input channels, 3 classes). BN sees N*h*w >= 36 values per
 * channel, so train-mode BN is far from its degenerate 2-value case. BN gamma/beta and conv_seg are drawn at
 * random instead of mmcv's 1/0 and N(0, 0.01), so that no gradient is tiny or structurally symmetric.
 * Tolerances are GradCheck's (atol 1e-6, rtol 1e-5; see its comment).
 */
class FcnHeadGradCheckTest {
    private final Backend be = new RefBackend();

    @AfterEach
    void close() {
        be.close();
    }

    /** The decode head's shape: 2 convs, conv_cat over [x, convs output], dropout. */
    @Test
    void concatHeadWithDropout() {
        check(new FcnHeadConfig(4, 2, true, 0.5f), Shape.of(2, 5, 6, 7), 3, 41);
    }

    /** conv_cat without dropout: conv_seg writes conv_cat's gradient directly. */
    @Test
    void concatHeadWithoutDropout() {
        check(new FcnHeadConfig(4, 2, true, 0f), Shape.of(2, 5, 6, 7), 3, 42);
    }

    /** The auxiliary head's shape: 1 conv, no concatenation, dropout. */
    @Test
    void plainHeadWithDropout() {
        check(new FcnHeadConfig(5, 1, false, 0.5f), Shape.of(3, 4, 3, 6), 2, 43);
    }

    @Test
    void plainHeadWithoutDropout() {
        check(new FcnHeadConfig(5, 1, false, 0f), Shape.of(3, 4, 3, 6), 2, 44);
    }

    private void check(FcnHeadConfig hc, Shape xShape, int classes, long seed) {
        Parameters params = new Parameters(DType.F64);
        Activations acts = new Activations(DType.F64);
        FcnHead head = new FcnHead(be, params, acts, "decode_head", xShape, hc, classes);
        params.allocate(be);
        acts.allocate(be);
        head.initialize(new Init(be, seed));
        randomizeAffine(params, seed);
        Tensor x = be.allocate(DType.F64, xShape);  // (N, h, w, Cin)
        Tensor dx = be.allocate(DType.F64, xShape); // (N, h, w, Cin)
        Rand.normal(x, seed + 1, 1.0);
        Tensor dy = be.allocate(DType.F64, head.logits().shape()); // (N, h, w, K)
        long dropoutSeed = seed * 7919;
        Runnable forward = () -> head.forward(x, true, dropoutSeed);
        Runnable backward = () -> {
            acts.zeroGrads();
            be.copy(dy, head.logits().grad());
            head.backward(dx);
        };
        List<GradCheck.Input> inputs = new ArrayList<>();
        for (Param p : params.trainable()) {
            inputs.add(GradCheck.input(p.name(), p.value(), p.grad()));
        }
        inputs.add(GradCheck.input("x", x, dx));
        GradCheck.check("FcnHead " + hc + " x " + xShape, seed, GradCheck.DEFAULT_ATOL, GradCheck.DEFAULT_RTOL,
                forward, head.logits().value(), dy, backward, inputs.toArray(GradCheck.Input[]::new));
        if (hc.dropout() > 0) {
            Tensor mask = head.dropoutMask().value();
            int dropped = 0;
            for (long i = 0; i < mask.numel(); i++) {
                dropped += mask.get(i) == 0 ? 1 : 0;
            }
            assertTrue(dropped > 0 && dropped < mask.numel(), "the dropout mask " + mask.shape() + " drops "
                    + dropped + " channels; the check needs some dropped and some kept");
        }
    }

    /** BN gamma in [0.5, 1.5), beta and conv_seg's bias in [-0.5, 0.5), conv_seg's weight N(0, 0.5). */
    static void randomizeAffine(Parameters params, long seed) {
        long s = seed * 1000;
        for (Param p : params.trainable()) {
            if (p.name().endsWith("bn.weight")) {
                Rand.uniform(p.value(), s++, 0.5, 1.5);
            } else if (p.name().endsWith("bn.bias") || p.name().endsWith("conv_seg.bias")) {
                Rand.uniform(p.value(), s++, -0.5, 0.5);
            } else if (p.name().endsWith("conv_seg.weight")) {
                Rand.normal(p.value(), s++, 0.5);
            }
        }
    }
}
