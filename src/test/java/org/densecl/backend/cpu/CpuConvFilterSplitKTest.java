package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.cpu.gemm.GemmTuning;
import org.densecl.backend.cpu.gemm.VectorGemm;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.densecl.testing.TensorAssert;
import org.densecl.testing.VectorWidths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The filter gradient through the GEMM driver's split-k mode (k = N*P*Q >= 1024 pixels, small dW): the
 * pointwise path (dY^T * X as a plain GEMM) and the im2col-B path (stride-2 1x1, 3x3,
 * the 7x7/2 stem),
 * against the reference backend, plus bitwise repeatability with 2 threads. CpuConvTest's geometries
 * are all below the split-k depth, so this mode needs its own cases.
 */
class CpuConvFilterSplitKTest {
    private static RefBackend ref;
    private static Parallel two;

    @BeforeAll
    static void setUp() {
        VectorWidths.assumeTheCpuHasThem();
        ref = new RefBackend();
        two = new Parallel(2);
    }

    @AfterAll
    static void tearDown() {
        ref.close();
        two.close();
    }

    static List<ConvGeometry> geometries() {
        // K x (R*S*C) of at least 1024 elements: smaller filter gradients take the slab modes.
        return List.of(
                new ConvGeometry(2, 24, 24, 33, 35, 1, 1, 1, 1, 0, 0, 1, 1),  // 1x1: 1152 pixels, plain GEMM
                new ConvGeometry(2, 46, 45, 36, 30, 1, 1, 2, 2, 0, 0, 1, 1),  // 1x1 stride 2: 2 x 23 x 23 = 1058
                new ConvGeometry(3, 23, 21, 4, 30, 3, 3, 1, 1, 1, 1, 1, 1),   // 3x3 same: 1449 pixels
                new ConvGeometry(1, 90, 92, 3, 8, 7, 7, 2, 2, 3, 3, 1, 1),    // stem 7x7/2: 45 x 46 = 2070
                new ConvGeometry(2, 32, 36, 26, 40, 1, 1, 1, 1, 0, 0, 1, 1)); // 1x1, K > C: row slabs otherwise
    }

    @Test
    void splitKFilterGradientMatchesReference() {
        CpuConv conv = new CpuConv(two, new CpuGemm(two, "vector"));
        for (ConvGeometry g : geometries()) {
            int pixels = g.n() * g.p() * g.q(), rsc = g.r() * g.s() * g.c();
            assertTrue(new VectorGemm(two, GemmTuning.DEFAULT).splitsK(2, g.k(), rsc, pixels, true), "split-k for " + g);
            Tensor x = random(g.xShape(), 1), dy = random(g.yShape(), 2);
            Tensor expectedW = random(g.wShape(), 3), dw = random(g.wShape(), 3);
            Tensor expectedB = random(Shape.of(g.k()), 4), db = random(Shape.of(g.k()), 4);
            ref.conv2dBackwardFilter(g, x, dy, expectedW, expectedB);
            conv.backwardFilter(g, x, dy, dw, db);
            // Each dw element sums N*P*Q products of values in [-1, 1) onto its old value (see GemmTesting).
            long terms = (long) pixels + 1;
            TensorAssert.close("conv2dBackwardFilter split-k dw " + g, expectedW, dw, GemmTesting.atol(terms),
                    GemmTesting.RTOL);
            TensorAssert.close("conv2dBackwardFilter split-k db " + g, expectedB, db, GemmTesting.atol(terms),
                    GemmTesting.RTOL);
        }
    }

    @Test
    void splitKFilterGradientIsRepeatable() {
        // k blocks are handed out to whichever thread asks first; the sum order must not follow.
        CpuConv conv = new CpuConv(two, new CpuGemm(two, "vector"));
        for (ConvGeometry g : List.of(geometries().get(0), geometries().get(3))) {
            Tensor x = random(g.xShape(), 5), dy = random(g.yShape(), 6);
            float[] first = null;
            for (int rep = 0; rep < 3; rep++) {
                Tensor dw = ref.allocate(g.wShape());
                conv.backwardFilter(g, x, dy, dw, null);
                float[] now = new float[(int) dw.numel()];
                for (int i = 0; i < now.length; i++) {
                    now[i] = dw.getFloat(i);
                }
                if (first == null) {
                    first = now;
                } else {
                    assertArrayEquals(first, now,
                            "conv2dBackwardFilter split-k " + g + ": run " + rep + " differs bitwise");
                }
            }
        }
    }

    private static Tensor random(Shape shape, long seed) {
        Tensor t = ref.allocate(shape);
        Rand.uniform(t, seed * 7919 + shape.numel(), -1, 1);
        return t;
    }
}
