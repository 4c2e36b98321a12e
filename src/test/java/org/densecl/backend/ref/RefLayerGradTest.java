package org.densecl.backend.ref;

import static org.densecl.backend.ref.RefFixtures.rand;
import static org.densecl.backend.ref.RefFixtures.zeros;
import static org.densecl.testing.GradCheck.input;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.PoolGeometry;
import org.densecl.tensor.Tensor;
import org.densecl.testing.GradCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Finite-difference checks (F64) of the ref backend's layer backward passes: batch norm (with and
 * without the fused ReLU), ReLU, max / global / adaptive average pooling, channel dropout and bilinear
 * resize. Shapes are small and awkward (odd channels, batch 1, sizes that do not divide).
 */
class RefLayerGradTest {
    private final RefBackend ref = new RefBackend();

    @AfterEach
    void close() {
        ref.close();
    }

    @ParameterizedTest(name = "x=({0},{1},{2},{3}) relu={4}")
    @CsvSource({"2, 3, 2, 5, false", "2, 3, 2, 5, true", "1, 3, 3, 1, false", "1, 1, 4, 3, true"})
    void batchNormTrain(int n, int h, int w, int c, boolean relu) {
        Tensor x = rand(ref, 41, n, h, w, c), gamma = rand(ref, 42, c), beta = rand(ref, 43, c);
        Tensor y = zeros(ref, n, h, w, c), dy = zeros(ref, n, h, w, c);
        Tensor runMean = zeros(ref, c), runVar = zeros(ref, c), mean = zeros(ref, c), invStd = zeros(ref, c);
        Tensor dx = zeros(ref, n, h, w, c), dgamma = zeros(ref, c), dbeta = zeros(ref, c);
        // eps 1e-5 as PyTorch; x is O(1), so var + eps is far from 0 and the check is well conditioned.
        Runnable forward = () -> ref.batchNormTrainForward(x, gamma, beta, 0.1f, 1e-5f, runMean, runVar, mean,
                invStd, y, relu);
        Runnable backward = () -> ref.batchNormBackward(x, dy, gamma, mean, invStd, relu ? y : null, relu, dx,
                dgamma, dbeta);
        GradCheck.check("batchNormTrain x " + x.shape() + " relu=" + relu, forward, y, dy, backward,
                input("x", x, dx), input("gamma", gamma, dgamma), input("beta", beta, dbeta));
        if (relu) {
            assertTrue(countZeros(y) > 0, "the fused-ReLU case must clip something to test the mask");
        }
    }

    @Test
    void relu() {
        Tensor x = rand(ref, 51, 2, 3, 3, 5), y = zeros(ref, 2, 3, 3, 5), dy = zeros(ref, 2, 3, 3, 5);
        Tensor dx = zeros(ref, 2, 3, 3, 5);
        GradCheck.check("relu (2,3,3,5)", () -> ref.reluForward(x, y), y, dy, () -> ref.reluBackward(y, dy, dx),
                input("x", x, dx));
    }

    @ParameterizedTest(name = "x=({0},{1},{2},{3}) window={4} stride={5} pad={6}")
    @CsvSource({"1, 7, 6, 3, 3, 2, 1", "2, 4, 5, 3, 2, 2, 0", "1, 5, 5, 2, 3, 1, 1", "1, 3, 3, 1, 3, 1, 0"})
    void maxPool(int n, int h, int w, int c, int window, int stride, int pad) {
        PoolGeometry g = new PoolGeometry(n, h, w, c, window, window, stride, pad);
        Tensor x = rand(ref, 61, n, h, w, c), y = zeros(ref, g.yShape().dims()), dy = zeros(ref, g.yShape().dims());
        Tensor dx = zeros(ref, n, h, w, c);
        GradCheck.check("maxPool x " + x.shape() + " " + window + "x" + window + "/" + stride + " pad " + pad,
                () -> ref.maxPoolForward(g, x, y), y, dy, () -> ref.maxPoolBackward(g, x, y, dy, dx),
                input("x", x, dx));
    }

    @Test
    void globalAvgPool() {
        Tensor x = rand(ref, 71, 2, 3, 4, 5), y = zeros(ref, 2, 5), dy = zeros(ref, 2, 5);
        Tensor dx = zeros(ref, 2, 3, 4, 5);
        GradCheck.check("globalAvgPool (2,3,4,5)->(2,5)", () -> ref.globalAvgPoolForward(x, y), y, dy,
                () -> ref.globalAvgPoolBackward(dy, dx), input("x", x, dx));
    }

    /** 7 -> 3 (overlapping bins [0,3), [2,5), [4,7)), 5 -> 2, and 2 -> 3 / 3 -> 4 (output larger than input). */
    @ParameterizedTest(name = "({0},{1},{2},{3}) -> ({0},{4},{5},{3})")
    @CsvSource({"1, 7, 5, 3, 3, 2", "2, 2, 3, 2, 3, 4", "1, 6, 6, 3, 3, 3", "1, 4, 5, 2, 1, 1"})
    void adaptiveAvgPool(int n, int h, int w, int c, int p, int q) {
        Tensor x = rand(ref, 81, n, h, w, c), y = zeros(ref, n, p, q, c), dy = zeros(ref, n, p, q, c);
        Tensor dx = zeros(ref, n, h, w, c);
        GradCheck.check("adaptiveAvgPool " + x.shape() + "->" + y.shape(), () -> ref.adaptiveAvgPoolForward(x, y),
                y, dy, () -> ref.adaptiveAvgPoolBackward(dy, dx), input("x", x, dx));
    }

    @Test
    void dropout2d() {
        Tensor x = rand(ref, 91, 2, 3, 2, 7), y = zeros(ref, 2, 3, 2, 7), dy = zeros(ref, 2, 3, 2, 7);
        Tensor mask = zeros(ref, 2, 7), dx = zeros(ref, 2, 3, 2, 7);
        GradCheck.check("dropout2d (2,3,2,7) p=0.4", () -> ref.dropout2dForward(x, 0.4f, 7L, mask, y), y, dy,
                () -> ref.dropout2dBackward(mask, dy, dx), input("x", x, dx));
        int dropped = countZeros(mask);
        assertTrue(dropped > 0 && dropped < 14, "seed 7 must drop some but not all of 14 channels: " + dropped);
    }

    /** Up, down, non-integer ratios, a size-1 output, both alignCorners settings. */
    @ParameterizedTest(name = "({0},{1},{2},{3}) -> ({4},{5}) alignCorners={6}")
    @CsvSource({
            "1, 3, 4, 3, 7, 9, false", "1, 3, 4, 3, 7, 9, true",   // up
            "2, 7, 9, 2, 3, 4, false", "2, 7, 9, 2, 3, 4, true",   // down
            "1, 5, 3, 1, 3, 5, false", "1, 5, 3, 1, 3, 5, true",   // mixed, non-integer ratios
            "1, 4, 3, 2, 1, 3, true", "1, 4, 3, 2, 1, 2, false",   // size-1 and equal-size axes
    })
    void resizeBilinear(int n, int h, int w, int c, int oh, int ow, boolean alignCorners) {
        Tensor x = rand(ref, 101, n, h, w, c), y = zeros(ref, n, oh, ow, c), dy = zeros(ref, n, oh, ow, c);
        Tensor dx = zeros(ref, n, h, w, c);
        GradCheck.check("resizeBilinear " + x.shape() + "->" + y.shape() + " alignCorners=" + alignCorners,
                () -> ref.resizeBilinearForward(x, y, alignCorners), y, dy,
                () -> ref.resizeBilinearBackward(dy, dx, alignCorners), input("x", x, dx));
    }

    private static int countZeros(Tensor t) {
        int zeros = 0;
        for (long i = 0; i < t.numel(); i++) {
            zeros += t.get(i) == 0 ? 1 : 0;
        }
        return zeros;
    }
}
