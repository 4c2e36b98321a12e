package org.densecl.seg;

import static org.densecl.testing.TensorAssert.maxAbs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.nn.Param;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.densecl.testing.TensorAssert;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The loss's reduction (spec 4.3): ignored pixels (255) add nothing to the loss or the gradients but count
 * in the denominator, which is all N*H*W pixels (mmseg's avg_non_ignore = False); total = CE_decode + 0.4 *
 * CE_aux. F64 on the reference backend, so identities hold to ~1e-15 relative; 1e-12 is the tolerance.
 *
 * <p>The labels do not touch the forward pass (same images, same dropout step: same logits), so the losses
 * and gradients are linear in the set of labelled pixels exactly when the denominator does not depend on
 * it: splitting the pixels into two label maps, each ignoring the other's pixels, must give losses and
 * gradients that add up to those of the full map. Averaging over non-ignored pixels would weight the two
 * halves by 1/|S| and 1/|T| instead and fail.
 */
class SegmentationLossTest {
    private static final int N = 2, H = 24, W = 20, CLASSES = 3;
    private static final long STEP = 9;
    private static final double TOL = 1e-12;
    private final Backend be = new RefBackend();
    private final SegmentationModel model;
    private final Tensor images;
    private final Tensor labels;

    SegmentationLossTest() {
        model = new SegmentationModel(be, SegmentationGradCheckTest.tinyConfig(0.1f), DType.F64, N, H, W, CLASSES);
        model.initialize(31);
        FcnHeadGradCheckTest.randomizeAffine(model.headParameters(), 31);
        images = be.allocate(DType.F64, model.inputShape());
        Rand.normal(images, 32, 1.0);
        labels = be.allocate(DType.I32, model.labelShape());
    }

    @AfterEach
    void close() {
        be.close();
    }

    @Test
    void ignoredPixelsAddNothingButCountInTheDenominator() {
        int[] full = new int[N * H * W];
        SplittableRandom r = new SplittableRandom(33);
        boolean[] inS = new boolean[full.length];
        for (int i = 0; i < full.length; i++) {
            full[i] = r.nextInt(CLASSES);
            inS[i] = r.nextDouble() < 0.3;
        }
        int[] s = full.clone(), t = full.clone();
        for (int i = 0; i < full.length; i++) {
            (inS[i] ? t : s)[i] = SegmentationModel.IGNORE_INDEX;
        }
        Result a = run(s), b = run(t), all = run(full);
        TensorAssert.close("losses (total, decode, aux) of S plus those of T vs the full map",
                all.losses, add(a.losses, b.losses), TOL, TOL);
        assertNotEquals(0, a.losses[1], "S's loss");
        for (int p = 0; p < all.grads.size(); p++) {
            double[] g = all.grads.get(p);
            TensorAssert.close("gradient " + p + " of S plus that of T vs the full map", g,
                    add(a.grads.get(p), b.grads.get(p)), TOL * maxAbs(g), TOL);
        }
        assertEquals(all.losses[1] + (double) 0.4f * all.losses[2], all.losses[0], TOL, "total = decode + 0.4 aux");
    }

    /** Every pixel ignored: both losses are exactly 0 and so is every gradient. */
    @Test
    void allIgnoredGivesZeroLossAndGradients() {
        int[] none = new int[N * H * W];
        java.util.Arrays.fill(none, SegmentationModel.IGNORE_INDEX);
        Result z = run(none);
        for (double l : z.losses) {
            assertEquals(0.0, l, 0.0, "loss with every pixel ignored");
        }
        for (double[] g : z.grads) {
            for (double x : g) {
                assertEquals(0.0, x, 0.0, "gradient with every pixel ignored");
            }
        }
    }

    /**
     * The denominator is N*H*W: with one labelled pixel p of class c, CE_c = (logsumexp(z_p) - z_p[c]) / M,
     * so sum_c exp(-M * CE_c) = sum_c softmax(z_p)[c] = 1 for each head (with M = 1, the non-ignored count,
     * the sum would be far from 1).
     */
    @Test
    void oneLabelledPixelIsDividedByAllPixels() {
        int m = N * H * W, pixel = 777;
        double decode = 0, aux = 0;
        for (int c = 0; c < CLASSES; c++) {
            int[] one = new int[m];
            java.util.Arrays.fill(one, SegmentationModel.IGNORE_INDEX);
            one[pixel] = c;
            Result res = run(one);
            decode += Math.exp(-m * res.losses[1]);
            aux += Math.exp(-m * res.losses[2]);
        }
        assertEquals(1.0, decode, 1e-10, "decode head: softmax of the one labelled pixel from M * CE");
        assertEquals(1.0, aux, 1e-10, "auxiliary head: softmax of the one labelled pixel from M * CE");
    }

    @Test
    void labelsOutsideTheClassesAreRejected() {
        int[] bad = new int[N * H * W];
        bad[5] = CLASSES; // neither a class nor the ignore index
        be.upload(bad, labels);
        assertThrows(IllegalArgumentException.class, () -> model.lossAndGradients(images, labels, STEP));
    }

    private record Result(double[] losses, List<double[]> grads) {}

    private Result run(int[] labelValues) {
        be.upload(labelValues, labels);
        SegmentationModel.Losses l = model.lossAndGradients(images, labels, STEP);
        List<double[]> grads = new ArrayList<>();
        for (List<Param> ps : List.of(model.backbone().parameters().trainable(), model.headParameters().trainable())) {
            for (Param p : ps) {
                grads.add(FcnHeadTest.values(p.grad()));
            }
        }
        return new Result(new double[] {l.total(), l.decode(), l.aux()}, grads);
    }

    private static double[] add(double[] a, double[] b) {
        double[] c = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i] + b[i];
        }
        return c;
    }
}
