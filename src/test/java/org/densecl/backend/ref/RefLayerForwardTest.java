package org.densecl.backend.ref;

import static org.densecl.backend.ref.RefFixtures.f64;
import static org.densecl.backend.ref.RefFixtures.labels;
import static org.densecl.backend.ref.RefFixtures.values;
import static org.densecl.backend.ref.RefFixtures.zeros;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.PoolGeometry;
import org.densecl.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Forward results of the ref batch norm, pooling, resize, cross-entropy and L2 normalisation on tiny
 * cases computed by hand (PyTorch's documented semantics). Comparisons use 1e-12 where the
 * arithmetic is not exact in binary: F64 rounding of a handful of operations is ~1e-16.
 */
class RefLayerForwardTest {
    private static final double TOL = 1e-12;
    private final RefBackend ref = new RefBackend();

    @AfterEach
    void close() {
        ref.close();
    }

    @Test
    void batchNormTrainStatisticsAndRunningUpdateUseUnbiasedVariance() {
        // x (M=4, C=2): channel 0 = 1,2,3,4 (mean 2.5, biased var 1.25, unbiased 5/3),
        //               channel 1 = 0,0,0,8 (mean 2,   biased var 12,   unbiased 16).
        Tensor x = f64(ref, new double[] {1, 0, 2, 0, 3, 0, 4, 8}, 4, 2);
        Tensor gamma = f64(ref, new double[] {2, 1}, 2), beta = f64(ref, new double[] {0.5, -1}, 2);
        Tensor runMean = f64(ref, new double[] {0, 1}, 2), runVar = f64(ref, new double[] {1, 1}, 2);
        Tensor mean = zeros(ref, 2), invStd = zeros(ref, 2), y = zeros(ref, 4, 2);
        float eps = 1e-5f, momentum = 0.1f;
        ref.batchNormTrainForward(x, gamma, beta, momentum, eps, runMean, runVar, mean, invStd, y, false);
        double m = momentum; // the float 0.1f, as the op receives it
        assertArrayEquals(new double[] {2.5, 2}, values(mean), TOL, "saveMean");
        double e = eps; // widen first: 12 + eps in float arithmetic would round eps away
        double is0 = 1 / Math.sqrt(1.25 + e), is1 = 1 / Math.sqrt(12 + e);
        assertArrayEquals(new double[] {is0, is1}, values(invStd), TOL, "saveInvStd = 1/sqrt(biased var + eps)");
        assertArrayEquals(new double[] {m * 2.5, (1 - m) * 1 + m * 2}, values(runMean), TOL, "runningMean");
        assertArrayEquals(new double[] {(1 - m) + m * 5.0 / 3, (1 - m) + m * 16}, values(runVar), TOL,
                "runningVar uses the unbiased variance M/(M-1)");
        assertArrayEquals(new double[] {2 * -1.5 * is0 + 0.5, -2 * is1 - 1, 2 * -0.5 * is0 + 0.5, -2 * is1 - 1,
                2 * 0.5 * is0 + 0.5, -2 * is1 - 1, 2 * 1.5 * is0 + 0.5, 6 * is1 - 1}, values(y), TOL, "y");
        // The fused ReLU clips exactly the negative outputs.
        Tensor yRelu = zeros(ref, 4, 2);
        ref.batchNormTrainForward(x, gamma, beta, momentum, eps, runMean, runVar, mean, invStd, yRelu, true);
        for (int i = 0; i < 8; i++) {
            assertEquals(Math.max(y.get(i), 0), yRelu.get(i), TOL, "fused relu at " + i);
        }
    }

    @Test
    void batchNormInferenceUsesRunningStatistics() {
        Tensor x = f64(ref, new double[] {1, -3, 5, 2}, 2, 2);
        Tensor gamma = f64(ref, new double[] {2, 0.5}, 2), beta = f64(ref, new double[] {1, -1}, 2);
        Tensor runMean = f64(ref, new double[] {1, -1}, 2), runVar = f64(ref, new double[] {3, 15}, 2);
        Tensor y = zeros(ref, 2, 2);
        ref.batchNormInferenceForward(x, gamma, beta, runMean, runVar, 1f, y, false);
        // invStd = 1/sqrt(3+1) = 0.5 and 1/sqrt(15+1) = 0.25.
        assertArrayEquals(new double[] {1, 0.5 * -2 * 0.25 - 1, 2 * 4 * 0.5 + 1, 0.5 * 3 * 0.25 - 1}, values(y),
                TOL, "bn inference");
        ref.batchNormInferenceForward(x, gamma, beta, runMean, runVar, 1f, y, true);
        assertArrayEquals(new double[] {1, 0, 5, 0}, values(y), TOL, "bn inference + relu");
    }

    @Test
    void batchNormTrainWithOneValuePerChannelThrows() {
        Tensor x = zeros(ref, 1, 1, 1, 3), c = zeros(ref, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ref.batchNormTrainForward(
                x, c, c, 0.1f, 1e-5f, zeros(ref, 3), zeros(ref, 3), zeros(ref, 3), zeros(ref, 3), zeros(ref, 1, 1, 1, 3),
                false));
        assertTrue(e.getMessage().contains("batchNormTrainForward") && e.getMessage().contains("(1, 1, 1, 3)"),
                e.getMessage());
    }

    @Test
    void maxPoolPaddingIsMinusInfinityAndFirstMaximumWins() {
        // All-negative input with padding: a zero pad would win; -inf padding must not.
        PoolGeometry g = PoolGeometry.resnetStem(1, 4, 4, 1); // 3x3 / 2, pad 1 -> (1, 2, 2, 1)
        double[] xv = new double[16];
        for (int i = 0; i < 16; i++) {
            xv[i] = -1 - i;
        }
        Tensor x = f64(ref, xv, 1, 4, 4, 1), y = zeros(ref, 1, 2, 2, 1);
        ref.maxPoolForward(g, x, y);
        // Windows cover rows/cols {-1,0,1} and {1,2,3}: maxima at (0,0), (0,1), (1,0), (1,1).
        assertArrayEquals(new double[] {-1, -2, -5, -6}, values(y), "max pool with -inf padding");
        // Ties: a constant input sends each window's gradient to its first (top-left, row-major) element.
        PoolGeometry g2 = new PoolGeometry(1, 4, 4, 1, 2, 2, 2, 0);
        Tensor ones = f64(ref, new double[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 4, 4, 1);
        Tensor dy = f64(ref, new double[] {1, 2, 3, 4}, 1, 2, 2, 1), dx = zeros(ref, 1, 4, 4, 1);
        ref.maxPoolForward(g2, ones, y);
        ref.maxPoolBackward(g2, ones, y, dy, dx);
        assertArrayEquals(new double[] {1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0}, values(dx), "tie routing");
    }

    @Test
    void globalAndAdaptivePoolBins() {
        // Rows 0..6 into 3 bins: [0,3) [2,5) [4,7) -> means 1, 3, 5 (PyTorch's floor/ceil bins).
        Tensor x = f64(ref, new double[] {0, 1, 2, 3, 4, 5, 6}, 1, 7, 1, 1), y = zeros(ref, 1, 3, 1, 1);
        ref.adaptiveAvgPoolForward(x, y);
        assertArrayEquals(new double[] {1, 3, 5}, values(y), TOL, "adaptive 7 -> 3");
        Tensor g = zeros(ref, 1, 1);
        ref.globalAvgPoolForward(x, g);
        assertArrayEquals(new double[] {3}, values(g), TOL, "global average");
        Tensor dx = zeros(ref, 1, 7, 1, 1);
        ref.adaptiveAvgPoolBackward(f64(ref, new double[] {3, 6, 9}, 1, 3, 1, 1), dx);
        // Row 2 is in bins 0 and 1 (1 + 2), row 4 in bins 1 and 2 (2 + 3).
        assertArrayEquals(new double[] {1, 1, 3, 2, 5, 3, 3}, values(dx), TOL, "adaptive 7 -> 3 backward");
    }

    @Test
    void bilinearMatchesInterpolateInOneDimension() {
        Tensor x2 = f64(ref, new double[] {1, 2}, 1, 1, 2, 1), y4 = zeros(ref, 1, 1, 4, 1);
        ref.resizeBilinearForward(x2, y4, false); // src = -0.25 (clamped to 0), 0.25, 0.75, 1.25
        assertArrayEquals(new double[] {1, 1.25, 1.75, 2}, values(y4), TOL, "up 2->4 alignCorners=false");
        ref.resizeBilinearForward(x2, y4, true); // src = 0, 1/3, 2/3, 1
        assertArrayEquals(new double[] {1, 4.0 / 3, 5.0 / 3, 2}, values(y4), TOL, "up 2->4 alignCorners=true");
        Tensor x4 = f64(ref, new double[] {0, 1, 2, 3}, 1, 1, 4, 1), y2 = zeros(ref, 1, 1, 2, 1);
        ref.resizeBilinearForward(x4, y2, false); // src = 0.5, 2.5
        assertArrayEquals(new double[] {0.5, 2.5}, values(y2), TOL, "down 4->2 alignCorners=false");
        ref.resizeBilinearForward(x4, y2, true); // src = 0, 3
        assertArrayEquals(new double[] {0, 3}, values(y2), TOL, "down 4->2 alignCorners=true");
        Tensor x3 = f64(ref, new double[] {0, 10, 20}, 1, 1, 3, 1);
        ref.resizeBilinearForward(x3, y2, false); // scale 1.5: src = 0.25, 1.75
        assertArrayEquals(new double[] {2.5, 17.5}, values(y2), TOL, "down 3->2 alignCorners=false");
        Tensor y1 = zeros(ref, 1, 1, 1, 1);
        ref.resizeBilinearForward(x4, y1, false); // src = 0.5 * 4 - 0.5 = 1.5
        assertArrayEquals(new double[] {1.5}, values(y1), TOL, "4->1 alignCorners=false");
        ref.resizeBilinearForward(x4, y1, true); // out == 1: src = 0
        assertArrayEquals(new double[] {0}, values(y1), TOL, "4->1 alignCorners=true");
    }

    @Test
    void bilinearTwoDimensionsAndChannels() {
        // x (1, 2, 2, 2): channel 0 = [[1, 2], [3, 4]], channel 1 = 10 * channel 0.
        Tensor x = f64(ref, new double[] {1, 10, 2, 20, 3, 30, 4, 40}, 1, 2, 2, 2), y = zeros(ref, 1, 3, 3, 2);
        ref.resizeBilinearForward(x, y, true);
        double[] c0 = {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4};
        for (int i = 0; i < 9; i++) {
            assertEquals(c0[i], y.get(2L * i), TOL, "channel 0 at " + i);
            assertEquals(10 * c0[i], y.get(2L * i + 1), TOL, "channel 1 at " + i);
        }
        Tensor y4 = zeros(ref, 1, 4, 4, 2);
        ref.resizeBilinearForward(x, y4, false); // row 1 = 0.75 * row 0 + 0.25 * row 1 of the input
        assertArrayEquals(new double[] {1.5, 1.75, 2.25, 2.5},
                new double[] {y4.get(8), y4.get(10), y4.get(12), y4.get(14)}, TOL, "2x2 -> 4x4 second row");
    }

    @Test
    void crossEntropyKnownTwoPixelCase() {
        // Pixel 0: logits (0, 0), label 0 -> ln 2. Pixel 1: logits (ln 3, 0), label 1 -> softmax (3/4, 1/4), ln 4.
        Tensor logits = f64(ref, new double[] {0, 0, Math.log(3), 0}, 2, 2);
        Tensor probs = zeros(ref, 2, 2), loss = zeros(ref, 1);
        ref.softmaxCrossEntropyForward(logits, labels(ref, 0, 1), 255, false, probs, loss);
        assertEquals(1.5 * Math.log(2), loss.get(0), TOL, "mean of ln2 and ln4");
        assertArrayEquals(new double[] {0.5, 0.5, 0.75, 0.25}, values(probs), TOL, "probs");
        Tensor dl = zeros(ref, 2, 2);
        ref.softmaxCrossEntropyBackward(probs, labels(ref, 0, 1), 255, false, 2f, dl);
        assertArrayEquals(new double[] {-0.5, 0.5, 0.75, -0.75}, values(dl), TOL, "2 * (probs - onehot) / 2");
    }

    @Test
    void crossEntropyIgnoreHandlingAndBothDenominators() {
        Tensor logits = f64(ref, new double[] {0, 0, Math.log(3), 0, 5, -5}, 3, 2);
        Tensor probs = zeros(ref, 3, 2), loss = zeros(ref, 1), dl = zeros(ref, 3, 2);
        Tensor lab = labels(ref, 0, 255, 255);
        ref.softmaxCrossEntropyForward(logits, lab, 255, true, probs, loss);
        assertEquals(Math.log(2), loss.get(0), TOL, "average over the 1 non-ignored pixel");
        ref.softmaxCrossEntropyForward(logits, lab, 255, false, probs, loss);
        assertEquals(Math.log(2) / 3, loss.get(0), TOL, "average over all 3 pixels");
        ref.softmaxCrossEntropyBackward(probs, lab, 255, false, 1f, dl);
        assertArrayEquals(new double[] {-0.5 / 3, 0.5 / 3, 0, 0, 0, 0}, values(dl), TOL, "ignored rows get 0");
        // Everything ignored: loss 0 (not NaN) and backward adds nothing.
        Tensor all = labels(ref, 255, 255, 255);
        ref.softmaxCrossEntropyForward(logits, all, 255, true, probs, loss);
        assertEquals(0, loss.get(0), "all ignored -> 0");
        ref.softmaxCrossEntropyBackward(probs, all, 255, true, 1f, dl);
        assertArrayEquals(new double[] {-0.5 / 3, 0.5 / 3, 0, 0, 0, 0}, values(dl), TOL, "all ignored adds 0");
        // Huge logits stay finite (the max shift).
        Tensor big = f64(ref, new double[] {1000, 0, -1000, 1000}, 2, 2);
        ref.softmaxCrossEntropyForward(big, labels(ref, 1, 1), -100, true, zeros(ref, 2, 2), loss);
        assertEquals(500, loss.get(0), 1e-9, "(1000 + 0) / 2");
    }

    @Test
    void crossEntropyBadLabelThrowsNamingLabelAndPixel() {
        Tensor logits = zeros(ref, 3, 4), probs = zeros(ref, 3, 4), loss = zeros(ref, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ref.softmaxCrossEntropyForward(logits, labels(ref, 1, 7, 255), 255, true, probs, loss));
        assertTrue(e.getMessage().contains("label 7") && e.getMessage().contains("pixel 1")
                && e.getMessage().contains("softmaxCrossEntropyForward"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ref.softmaxCrossEntropyBackward(probs, labels(ref, 1, 0, -1), 255, true, 1f, zeros(ref, 3, 4)));
        assertTrue(e.getMessage().contains("label -1") && e.getMessage().contains("pixel 2"), e.getMessage());
    }

    @Test
    void l2NormalizeKnownRowsAndZeroRow() {
        Tensor x = f64(ref, new double[] {3, 4, 0, 0, 1e-13, 0}, 3, 2), y = zeros(ref, 3, 2), norms = zeros(ref, 3);
        ref.l2NormalizeForward(x, 1e-12f, y, norms);
        assertArrayEquals(new double[] {5, 0, 1e-13}, values(norms), TOL, "unclamped norms");
        double eps = 1e-12f; // the float eps, as the op receives it
        assertArrayEquals(new double[] {0.6, 0.8, 0, 0, 1e-13 / eps, 0}, values(y), TOL, "y = x / max(norm, eps)");
    }
}
