package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.densecl.backend.ConvGeometry;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cpu convolution (both GEMM providers, OpenBLAS also with its views written out in tiny blocks)
 * against the reference backend: forward with and without
 * bias (y starts as NaN garbage, which must be overwritten), backward data and backward filter (dx, dw,
 * db start random, and must be accumulated into). The geometries cover every code path: 1x1 stride 1
 * (plain GEMMs), the implicit GEMM, the stride-1 data gradient as a rotated-filter convolution, and the
 * col2im path (strides, padding wider than the kernel reach), and Winograd's F(4x4, 3x3) for a 3x3
 * stride-1 pad-1 layer with enough tiles (WinogradConvTest checks it in depth).
 */
class CpuConvTest {
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
        return List.of(
                // n, h, w, c, k, r, s, strideH, strideW, padH, padW, dilationH, dilationW
                new ConvGeometry(2, 7, 7, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1),      // 3x3 same, odd channels
                new ConvGeometry(1, 9, 8, 3, 4, 3, 3, 2, 2, 1, 1, 1, 1),      // stride 2, non-square input
                new ConvGeometry(2, 9, 9, 4, 5, 3, 3, 1, 1, 2, 2, 2, 2),      // dilation 2 (FCN's D8 convs)
                new ConvGeometry(1, 15, 13, 3, 8, 7, 7, 2, 2, 3, 3, 1, 1),    // ResNet stem: 7x7 stride 2 pad 3
                new ConvGeometry(2, 7, 7, 6, 5, 1, 1, 2, 2, 0, 0, 1, 1),      // 1x1 stride 2 (downsample)
                new ConvGeometry(2, 5, 6, 7, 9, 1, 1, 1, 1, 0, 0, 1, 1),      // 1x1 stride 1: plain GEMMs
                new ConvGeometry(1, 8, 7, 4, 3, 3, 1, 1, 2, 1, 0, 1, 1),      // non-square kernel and stride
                new ConvGeometry(1, 6, 6, 17, 19, 3, 3, 1, 1, 1, 1, 1, 1),    // batch 1, channels past 16
                new ConvGeometry(3, 13, 13, 32, 40, 3, 3, 1, 1, 1, 1, 1, 1),  // 507 rows, RSC 288 > KC
                new ConvGeometry(1, 5, 5, 3, 2, 3, 3, 1, 1, 3, 3, 1, 1),      // padding beyond the kernel reach
                new ConvGeometry(2, 6, 5, 3, 4, 2, 3, 1, 1, 0, 1, 2, 1),      // even kernel, mixed dilation
                new ConvGeometry(8, 16, 15, 32, 48, 3, 3, 1, 1, 1, 1, 1, 1)); // vector: Winograd (128 tiles)
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        // openblas-blocks-40: every view written out in blocks of one or a few rows (or k steps).
        for (String provider : List.of("vector", "openblas", GemmTesting.OPENBLAS_BLOCKS + 40)) {
            for (ConvGeometry g : geometries()) {
                out.add(Arguments.of(provider, g));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void forwardMatchesReference(String provider, ConvGeometry g) {
        CpuConv conv = new CpuConv(two, GemmTesting.provider(two, provider));
        Tensor x = random(g.xShape(), 1), w = random(g.wShape(), 2), bias = random(Shape.of(g.k()), 3);
        for (Tensor b : new Tensor[] {null, bias}) {
            Tensor expected = ref.allocate(g.yShape()), y = ref.allocate(g.yShape());
            ref.fill(y, Float.NaN);
            ref.conv2dForward(g, x, w, b, expected);
            conv.forward(g, x, w, b, y);
            // Each output sums R*S*C products (plus the bias).
            long terms = (long) g.r() * g.s() * g.c() + 1;
            TensorAssert.close("conv2dForward[" + provider + "] bias=" + (b != null) + " " + g, expected, y,
                    GemmTesting.atol(terms), GemmTesting.RTOL);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void backwardDataMatchesReference(String provider, ConvGeometry g) {
        CpuConv conv = new CpuConv(two, GemmTesting.provider(two, provider));
        Tensor dy = random(g.yShape(), 4), w = random(g.wShape(), 5);
        Tensor expected = random(g.xShape(), 6), dx = random(g.xShape(), 6);
        ref.conv2dBackwardData(g, dy, w, expected);
        conv.backwardData(g, dy, w, dx, true);
        // Each dx element sums at most R*S*K products onto its old value.
        long terms = (long) g.r() * g.s() * g.k() + 1;
        TensorAssert.close("conv2dBackwardData[" + provider + "] " + g, expected, dx, GemmTesting.atol(terms),
                GemmTesting.RTOL);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void assignedBackwardDataMatchesReference(String provider, ConvGeometry g) {
        // accumulate = false: dx starts NaN and every element must be overwritten (strided geometries
        // leave pixels no window touches: those must become 0); the reference starts from zeros.
        CpuConv conv = new CpuConv(two, GemmTesting.provider(two, provider));
        Tensor dy = random(g.yShape(), 4), w = random(g.wShape(), 5);
        Tensor expected = ref.allocate(g.xShape()), dx = ref.allocate(g.xShape());
        ref.fill(dx, Float.NaN);
        ref.conv2dBackwardData(g, dy, w, expected);
        conv.backwardData(g, dy, w, dx, false);
        long terms = (long) g.r() * g.s() * g.k();
        TensorAssert.close("conv2dBackwardData assigned[" + provider + "] " + g, expected, dx,
                GemmTesting.atol(terms), GemmTesting.RTOL);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void backwardFilterMatchesReference(String provider, ConvGeometry g) {
        CpuConv conv = new CpuConv(two, GemmTesting.provider(two, provider));
        Tensor x = random(g.xShape(), 7), dy = random(g.yShape(), 8);
        Tensor expectedW = random(g.wShape(), 9), dw = random(g.wShape(), 9);
        Tensor expectedB = random(Shape.of(g.k()), 10), db = random(Shape.of(g.k()), 10);
        ref.conv2dBackwardFilter(g, x, dy, expectedW, expectedB);
        conv.backwardFilter(g, x, dy, dw, db);
        // Each dw and db element sums N*P*Q products onto its old value.
        long terms = (long) g.n() * g.p() * g.q() + 1;
        TensorAssert.close("conv2dBackwardFilter[" + provider + "] dw " + g, expectedW, dw, GemmTesting.atol(terms),
                GemmTesting.RTOL);
        TensorAssert.close("conv2dBackwardFilter[" + provider + "] db " + g, expectedB, db, GemmTesting.atol(terms),
                GemmTesting.RTOL);
        // Without db only dw changes.
        conv.backwardFilter(g, x, dy, dw, null);
        ref.conv2dBackwardFilter(g, x, dy, expectedW, null);
        TensorAssert.close("conv2dBackwardFilter[" + provider + "] dw twice " + g, expectedW, dw,
                2 * GemmTesting.atol(terms), GemmTesting.RTOL);
    }

    @Test
    void otherThreadCountsGiveTheSameResults() {
        // Every split (row blocks, column slabs, col2im channel slices, db partial sums) with 1 and 3
        // threads; 3 threads on a 2-core machine also exercises uneven shares.
        List<ConvGeometry> gs = List.of(geometries().get(1), geometries().get(7), geometries().get(8));
        for (int threads : new int[] {1, 3}) {
            try (Parallel p = new Parallel(threads)) {
                CpuConv conv = new CpuConv(p, new CpuGemm(p, "vector"));
                for (ConvGeometry g : gs) {
                    String what = "[vector, " + threads + " threads] " + g;
                    Tensor x = random(g.xShape(), 11), w = random(g.wShape(), 12), dy = random(g.yShape(), 13);
                    Tensor expected = ref.allocate(g.yShape()), y = ref.allocate(g.yShape());
                    ref.conv2dForward(g, x, w, null, expected);
                    conv.forward(g, x, w, null, y);
                    TensorAssert.close("conv2dForward" + what, expected, y,
                            GemmTesting.atol((long) g.r() * g.s() * g.c()), GemmTesting.RTOL);
                    Tensor dxRef = random(g.xShape(), 14), dx = random(g.xShape(), 14);
                    ref.conv2dBackwardData(g, dy, w, dxRef);
                    conv.backwardData(g, dy, w, dx, true);
                    TensorAssert.close("conv2dBackwardData" + what, dxRef, dx,
                            GemmTesting.atol((long) g.r() * g.s() * g.k() + 1), GemmTesting.RTOL);
                    Tensor dwRef = random(g.wShape(), 15), dw = random(g.wShape(), 15);
                    Tensor dbRef = random(Shape.of(g.k()), 16), db = random(Shape.of(g.k()), 16);
                    ref.conv2dBackwardFilter(g, x, dy, dwRef, dbRef);
                    conv.backwardFilter(g, x, dy, dw, db);
                    long terms = (long) g.n() * g.p() * g.q() + 1;
                    TensorAssert.close("conv2dBackwardFilter dw" + what, dwRef, dw, GemmTesting.atol(terms),
                            GemmTesting.RTOL);
                    TensorAssert.close("conv2dBackwardFilter db" + what, dbRef, db, GemmTesting.atol(terms),
                            GemmTesting.RTOL);
                }
            }
        }
    }

    @Test
    void rejectsWrongShapes() {
        CpuConv conv = new CpuConv(two, new CpuGemm(two, "vector"));
        ConvGeometry g = ConvGeometry.of(1, 5, 5, 3, 4, 3, 1, 1, 1);
        Tensor x = ref.allocate(g.xShape()), w = ref.allocate(Shape.of(4, 3, 3, 2)), y = ref.allocate(g.yShape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> conv.forward(g, x, w, null, y));
        assertTrue(e.getMessage().contains("conv2dForward") && e.getMessage().contains("(4, 3, 3, 2)"), e.getMessage());
    }

    private static Tensor random(Shape shape, long seed) {
        Tensor t = ref.allocate(shape);
        Rand.uniform(t, seed * 7919 + shape.numel(), -1, 1);
        return t;
    }
}
