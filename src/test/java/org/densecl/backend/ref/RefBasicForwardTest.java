package org.densecl.backend.ref;

import static org.densecl.backend.ref.RefFixtures.f32;
import static org.densecl.backend.ref.RefFixtures.f64;
import static org.densecl.backend.ref.RefFixtures.rand;
import static org.densecl.backend.ref.RefFixtures.values;
import static org.densecl.backend.ref.RefFixtures.zeros;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.densecl.backend.ConvGeometry;
import org.densecl.backend.DropoutMask;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.TensorAssert;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Forward results of the ref GEMM, convolution, elementwise and optimiser ops on tiny cases whose answer
 * is computed by hand (the finite-difference tests only prove backward matches forward; these pin the
 * forward itself). Values are chosen exact in binary so most comparisons are exact.
 */
class RefBasicForwardTest {
    private final RefBackend ref = new RefBackend();

    @AfterEach
    void close() {
        ref.close();
    }

    @Test
    void gemmKnownProductWithAlphaBetaAndNanIgnoredAtBetaZero() {
        Tensor a = f32(ref, new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = f32(ref, new float[] {7, 8, 9, 10, 11, 12}, 3, 2);
        Tensor c = f32(ref, new float[] {1, 1, 1, 1}, 2, 2);
        ref.gemm(false, false, 2, 2, 3, 2f, a, b, 1f, c);
        assertArrayEquals(new double[] {117, 129, 279, 309}, values(c), "gemm 2*(2,3)x(3,2)+C");
        // beta = 0 must not read C: NaN there must not leak into the result.
        ref.fill(c, Float.NaN);
        ref.gemm(false, false, 2, 2, 3, 1f, a, b, 0f, c);
        assertArrayEquals(new double[] {58, 64, 139, 154}, values(c), "gemm beta=0 over NaN");
        // The same product with both operands stored transposed: A^T stored (3,2), B^T stored (2,3).
        Tensor at = f32(ref, new float[] {1, 4, 2, 5, 3, 6}, 3, 2);
        Tensor bt = f32(ref, new float[] {7, 9, 11, 8, 10, 12}, 2, 3);
        ref.gemm(true, true, 2, 2, 3, 1f, at, bt, 0f, c);
        assertArrayEquals(new double[] {58, 64, 139, 154}, values(c), "gemm transA transB");
    }

    @Test
    void conv3x3OnesPaddedSumsNeighbourhoods() {
        ConvGeometry g = ConvGeometry.of(1, 3, 3, 1, 1, 3, 1, 1, 1);
        Tensor x = f32(ref, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 3, 3, 1);
        Tensor w = f32(ref, new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 3, 3, 1);
        Tensor bias = f32(ref, new float[] {0.5f}, 1);
        Tensor y = ref.allocate(Shape.of(1, 3, 3, 1));
        ref.conv2dForward(g, x, w, bias, y);
        assertArrayEquals(new double[] {12.5, 21.5, 16.5, 27.5, 45.5, 33.5, 24.5, 39.5, 28.5}, values(y),
                "3x3 ones conv, pad 1, bias 0.5");
    }

    @Test
    void convIsCrossCorrelationNotFlipped() {
        // Only tap (r=1, s=2) is 1: y[p, q] = x[p, q + 1] (PyTorch does not flip the kernel).
        ConvGeometry g = ConvGeometry.of(1, 3, 3, 1, 1, 3, 1, 1, 1);
        Tensor x = f32(ref, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 3, 3, 1);
        Tensor w = f32(ref, new float[] {0, 0, 0, 0, 0, 1, 0, 0, 0}, 1, 3, 3, 1);
        Tensor y = ref.allocate(Shape.of(1, 3, 3, 1));
        ref.conv2dForward(g, x, w, null, y);
        assertArrayEquals(new double[] {2, 3, 0, 5, 6, 0, 8, 9, 0}, values(y), "shift kernel");
    }

    @Test
    void convStrideTwoDilationTwoKnownTaps() {
        // x (1, 5, 5, 1) = 0..24, 2x2 kernel of ones, stride 2, dilation 2, no padding: P = Q = 2 and
        // y[p, q] = x[2p, 2q] + x[2p, 2q+2] + x[2p+2, 2q] + x[2p+2, 2q+2].
        ConvGeometry g = ConvGeometry.of(1, 5, 5, 1, 1, 2, 2, 0, 2);
        float[] xv = new float[25];
        for (int i = 0; i < 25; i++) {
            xv[i] = i;
        }
        Tensor x = f32(ref, xv, 1, 5, 5, 1);
        Tensor w = f32(ref, new float[] {1, 1, 1, 1}, 1, 2, 2, 1);
        Tensor y = ref.allocate(g.yShape());
        ref.conv2dForward(g, x, w, null, y);
        assertEquals(Shape.of(1, 2, 2, 1), g.yShape());
        assertArrayEquals(new double[] {0 + 2 + 10 + 12, 2 + 4 + 12 + 14, 10 + 12 + 20 + 22, 12 + 14 + 22 + 24},
                values(y), "stride 2 dilation 2");
    }

    @Test
    void pointwiseConvEqualsGemmWithMultipleChannels() {
        // KRSC with R = S = 1 is a (K, C) matrix: y (NHW, K) = x (NHW, C) w^T.
        ConvGeometry g = ConvGeometry.of(2, 3, 5, 7, 3, 1, 1, 0, 1);
        Tensor x = ref.allocate(g.xShape()), w = ref.allocate(g.wShape());
        org.densecl.testing.Rand.uniform(x, 1, -1, 1);
        org.densecl.testing.Rand.uniform(w, 2, -1, 1);
        Tensor y = ref.allocate(g.yShape()), yGemm = ref.allocate(g.yShape());
        ref.conv2dForward(g, x, w, null, y);
        ref.gemm(false, true, 2 * 3 * 5, 3, 7, 1f, x, w, 0f, yGemm);
        // Both sum the same 7 products in the same order in double: identical results.
        TensorAssert.close("1x1 conv vs gemm (2,3,5,7)->(2,3,5,3)", yGemm, y, 0, 0);
    }

    @Test
    void elementwiseOps() {
        Tensor a = f64(ref, new double[] {1, -2, 3.5}, 3), b = f64(ref, new double[] {0.5, 4, -1}, 3);
        ref.add(a, b, a); // aliasing y with a is allowed
        assertArrayEquals(new double[] {1.5, 2, 2.5}, values(a), "add in place");
        ref.axpy(2f, b, a);
        assertArrayEquals(new double[] {2.5, 10, 0.5}, values(a), "axpy");
        ref.scale(a, -0.5f);
        assertArrayEquals(new double[] {-1.25, -5, -0.25}, values(a), "scale");
        ref.reluForward(b, a);
        assertArrayEquals(new double[] {0.5, 4, 0}, values(a), "relu");
        ref.fill(a, 3f);
        assertArrayEquals(new double[] {3, 3, 3}, values(a), "fill");
        Tensor dx = f64(ref, new double[] {1, 1, 1}, 3);
        ref.reluBackward(f64(ref, new double[] {0, 2, 0.1}, 3), f64(ref, new double[] {5, 6, 7}, 3), dx);
        assertArrayEquals(new double[] {1, 7, 8}, values(dx), "relu backward accumulates where y > 0");
        Tensor y = f64(ref, new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        ref.biasAdd(y, f64(ref, new double[] {10, 20, 30}, 3));
        assertArrayEquals(new double[] {11, 22, 33, 14, 25, 36}, values(y), "biasAdd");
        Tensor db = f64(ref, new double[] {1, 1, 1}, 3);
        ref.biasBackward(y, db);
        assertArrayEquals(new double[] {26, 48, 70}, values(db), "biasBackward accumulates column sums");
    }

    @Test
    void dropout2dUsesTheSharedMaskAndScales() {
        int n = 3, h = 2, w = 2, c = 50;
        float p = 0.3f;
        Tensor x = rand(ref, 5, n, h, w, c), y = zeros(ref, n, h, w, c), mask = zeros(ref, n, c);
        ref.dropout2dForward(x, p, 99L, mask, y);
        int dropped = 0;
        for (int b = 0; b < n; b++) {
            for (int j = 0; j < c; j++) {
                double s = DropoutMask.scale(99L, b, j, p);
                assertEquals(s, mask.get((long) b * c + j), "mask[" + b + ", " + j + "]");
                dropped += s == 0 ? 1 : 0;
                for (int hw = 0; hw < h * w; hw++) {
                    long i = ((long) b * h * w + hw) * c + j;
                    assertEquals(x.get(i) * s, y.get(i), 1e-15, "y at " + i);
                }
            }
        }
        // 150 channels at p = 0.3: 45 expected; 15..75 is a > 5-sigma band, so this only fails if broken.
        assertTrue(dropped > 15 && dropped < 75, "dropped " + dropped + " of 150 channels at p=0.3");
        assertEquals((float) (1 / (1 - 0.3f)), DropoutMask.scale(99L, 0, firstKept(mask, c), p));
        // p = 0 is the identity.
        ref.dropout2dForward(x, 0f, 99L, mask, y);
        TensorAssert.close("dropout2d p=0", x, y, 0, 0);
    }

    @Test
    void copyChannelsConcatenatesAndSplitsChannelBlocks() {
        // Two rows: a (2, 2) and b (2, 3) concatenated into y (2, 5) = [a | b], then split back.
        Tensor a = f32(ref, new float[] {1, 2, 3, 4}, 2, 2);
        Tensor b = f32(ref, new float[] {5, 6, 7, 8, 9, 10}, 2, 3);
        Tensor y = f32(ref, new float[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, 2, 5);
        ref.copyChannels(a, 0, y, 0, 2, false);
        assertArrayEquals(new double[] {1, 2, -1, -1, -1, 3, 4, -1, -1, -1}, values(y),
                "copy into channels [0, 2) leaves the others alone");
        ref.copyChannels(b, 0, y, 2, 3, false);
        assertArrayEquals(new double[] {1, 2, 5, 6, 7, 3, 4, 8, 9, 10}, values(y), "concatenation [a | b]");
        // The split accumulates: db += y[:, 2:5] (channels 1..2 of it into channels 0..1 of db, say).
        Tensor db = f32(ref, new float[] {100, 100, 100, 100, 100, 100}, 2, 3);
        ref.copyChannels(y, 3, db, 1, 2, true);
        assertArrayEquals(new double[] {100, 106, 107, 100, 109, 110}, values(db), "accumulating block copy");
    }

    private static int firstKept(Tensor mask, int c) {
        for (int j = 0; j < c; j++) {
            if (mask.get(j) != 0) {
                return j;
            }
        }
        throw new AssertionError("no kept channel in sample 0");
    }

    @Test
    void sgdTwoStepsWithMomentumAndWeightDecayMatchHandComputation() {
        // Powers of two keep every intermediate exact. Per element, with g constant over both steps:
        //   step 1: g1 = g + wd*w0, buf = g1,              w1 = w0 - lr*buf
        //   step 2: g2 = g + wd*w1, buf = m*buf + g2,      w2 = w1 - lr*buf
        // w0 = 1, g = 0.5:   w1 = 0.9296875, buf2 = 0.97998046875, w2 = 0.80718994140625
        // w0 = -2, g = 0.25: w1 = -2.015625, buf2 = 0.2177734375,  w2 = -2.0428466796875
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            Tensor w = ref.allocate(dt, Shape.of(2)), g = ref.allocate(dt, Shape.of(2));
            Tensor buf = ref.allocate(dt, Shape.of(2));
            ref.upload(new float[] {1f, -2f}, w);
            ref.upload(new float[] {0.5f, 0.25f}, g);
            ref.sgdStep(w, g, buf, 0.125f, 0.75f, 0.0625f);
            assertArrayEquals(new double[] {0.9296875, -2.015625}, values(w), "sgd step 1 " + dt);
            ref.sgdStep(w, g, buf, 0.125f, 0.75f, 0.0625f);
            assertArrayEquals(new double[] {0.80718994140625, -2.0428466796875}, values(w), "sgd step 2 " + dt);
            assertArrayEquals(new double[] {0.97998046875, 0.2177734375}, values(buf), "sgd buffer " + dt);
        }
        // momentum 0 needs no buffer: w -= lr * (g + wd*w).
        Tensor w = f64(ref, new double[] {1}, 1);
        ref.sgdStep(w, f64(ref, new double[] {0.5}, 1), null, 0.125f, 0f, 0.0625f);
        assertArrayEquals(new double[] {0.9296875}, values(w), "sgd without momentum");
    }

    @Test
    void emaUpdate() {
        Tensor t = f64(ref, new double[] {1, -4}, 2);
        ref.emaUpdate(t, f64(ref, new double[] {3, 4}, 2), 0.75f);
        assertArrayEquals(new double[] {1.5, -2}, values(t), "ema m=0.75");
    }
}
