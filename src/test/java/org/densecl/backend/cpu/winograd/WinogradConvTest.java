package org.densecl.backend.cpu.winograd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.cpu.gemm.GemmTuning;
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
 * Winograd F(4x4, 3x3) convolutions against the reference backend (float64 accumulation, so it stands
 * for the exact result), all three passes, on sizes where tiles overhang the image edge (7, 9, 5, 1),
 * fit exactly (4, 8) and where the GEMMs need several KC blocks (C 264 > 256).
 *
 * <p>Tolerance: the direct convolution's float32 bound for the same number of terms (2 u t sqrt(t), see
 * GemmTesting) times {@link #AMPLIFICATION}. The transforms multiply inputs by up to 5 (B^T) and outputs by
 * up to 8 (A^T), with cancellation between points, which enlarges the rounding error of the products
 * (Lavin and Gray report F(4x4, 3x3) errors about 10x those of the direct method in float32); the bound
 * itself is loose enough that the worst error measured here is 0.56 of it (the test prints the ratio).
 */
class WinogradConvTest {
    private static final int L = Winograd43.LANES;
    // The geometries below go through WinogradConv directly, whatever applies() says of their size.
    /** Allowed error over the direct float32 bound: 3.5x the worst measured (0.56). */
    static final double AMPLIFICATION = 2;
    private static final double U = 0x1p-24;
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
                // channels in multiples of the vector (L = 8 floats: 16, 24, ..., 264; L = 16: 32, 48, ..., 528)
                same(2, 7, 7, 2 * L, 3 * L),   // 7x7 (ResNet's layer4 grid): tiles overhang by one; one chunk
                same(5, 9, 14, 3 * L, 2 * L),  // non-square, both edges partial; 60 tiles: a full and a partial chunk
                same(2, 24, 24, 2 * L, 2 * L), // exact tiles, 72 of them: exactly two chunks (CHUNK = 36)
                same(9, 1, 3, 2 * L, 4 * L),   // one row: only the centre row of each window is real
                same(2, 8, 12, 33 * L, 2 * L), // C past KC (at 8 floats and more): two k blocks in every GEMM
                same(1, 6, 6, 5 * L, 34 * L)); // K past KC, K not a multiple of the two-vector panels
    }

    private static ConvGeometry same(int n, int h, int w, int c, int k) {
        return ConvGeometry.of(n, h, w, c, k, 3, 1, 1, 1);
    }

    @Test
    void appliesOnlyToStrideOnePadOne3x3WithVectorChannels() {
        assertTrue(WinogradConv.applies(same(8, 56, 56, 64, 64)));
        assertTrue(WinogradConv.applies(same(8, 14, 14, 256, 256)));
        assertFalse(WinogradConv.applies(same(8, 7, 7, 512, 512)), "32 tiles");
        assertTrue(WinogradConv.applies(same(8, 16, 15, 32, 48)), "CpuConvTest's Winograd case: 128 tiles");
        assertFalse(WinogradConv.applies(same(8, 16, 12, 32, 48)), "96 tiles");
        assertFalse(WinogradConv.applies(ConvGeometry.of(8, 56, 56, 64, 64, 3, 2, 1, 1)), "stride 2");
        assertFalse(WinogradConv.applies(ConvGeometry.of(8, 28, 28, 64, 64, 3, 1, 2, 2)), "dilation 2");
        assertFalse(WinogradConv.applies(ConvGeometry.of(8, 28, 28, 64, 64, 3, 1, 0, 1)), "no padding");
        assertFalse(WinogradConv.applies(ConvGeometry.of(8, 28, 28, 64, 64, 1, 1, 0, 1)), "1x1");
        assertFalse(WinogradConv.applies(same(8, 32, 32, 34, 64)), "C not a multiple of the vector");
        assertFalse(WinogradConv.applies(same(8, 32, 32, 64, 42)), "K not a multiple of the vector");
        assertFalse(WinogradConv.applies(same(8, 32, 32, 16, 64)), "C below MIN_CHANNELS");
        assertFalse(WinogradConv.applies(same(8, 32, 32, 64, 24)), "K below MIN_CHANNELS");
    }

    @Test
    void allThreePassesMatchTheReference() {
        WinogradConv conv = new WinogradConv(two, GemmTuning.DEFAULT);
        double worst = 0;
        for (ConvGeometry g : geometries()) {
            worst = Math.max(worst, check(conv, g, "2 threads"));
        }
        System.out.printf("WinogradConvTest: worst error / direct float32 bound = %.2f%n", worst);
    }

    @Test
    void otherThreadCountsGiveTheSameResults() {
        for (int threads : new int[] {1, 3}) {
            try (Parallel p = new Parallel(threads)) {
                WinogradConv conv = new WinogradConv(p, GemmTuning.DEFAULT);
                for (ConvGeometry g : List.of(geometries().get(0), geometries().get(4))) {
                    check(conv, g, threads + " threads");
                }
            }
        }
    }

    // Checks forward (y starts NaN: overwritten), data gradient and filter gradient (dx, dw start random:
    // accumulated into); returns the worst |error| / direct bound seen.
    private static double check(WinogradConv conv, ConvGeometry g, String what) {
        Tensor x = random(g.xShape(), 1), w = random(g.wShape(), 2), dy = random(g.yShape(), 3);
        Tensor yRef = ref.allocate(g.yShape()), y = ref.allocate(g.yShape());
        ref.fill(y, Float.NaN);
        ref.conv2dForward(g, x, w, null, yRef);
        conv.forward(g, x.data(), w.data(), y.data());
        double worst = assertClose("forward", g, what, yRef, y, 9L * g.c());

        Tensor dxRef = random(g.xShape(), 4), dx = random(g.xShape(), 4);
        ref.conv2dBackwardData(g, dy, w, dxRef);
        conv.backwardData(g, dy.data(), w.data(), dx.data(), true);
        worst = Math.max(worst, assertClose("backwardData", g, what, dxRef, dx, 9L * g.k() + 1));
        // Assigned (accumulate false): dx starts NaN and must be overwritten; the reference starts at 0.
        ref.zero(dxRef);
        ref.conv2dBackwardData(g, dy, w, dxRef);
        ref.fill(dx, Float.NaN);
        conv.backwardData(g, dy.data(), w.data(), dx.data(), false);
        worst = Math.max(worst, assertClose("backwardData assigned", g, what, dxRef, dx, 9L * g.k()));

        Tensor dwRef = random(g.wShape(), 5), dw = random(g.wShape(), 5);
        ref.conv2dBackwardFilter(g, x, dy, dwRef, null);
        conv.backwardFilter(g, x.data(), dy.data(), dw.data());
        long pixels = (long) g.n() * g.h() * g.w();
        return Math.max(worst, assertClose("backwardFilter", g, what, dwRef, dw, pixels + 1));
    }

    private static double assertClose(String pass, ConvGeometry g, String what, Tensor expected, Tensor actual,
                                      long terms) {
        double bound = 2 * U * terms * Math.sqrt(terms) + 1e-7;
        TensorAssert.close("winograd " + pass + " [" + what + "] " + g, expected, actual, AMPLIFICATION * bound,
                8 * U);
        double worst = 0;
        for (long i = 0; i < expected.shape().numel(); i++) {
            worst = Math.max(worst, Math.abs(expected.get(i) - actual.get(i)));
        }
        return worst / bound;
    }

    private static Tensor random(Shape shape, long seed) {
        Tensor t = ref.allocate(shape);
        Rand.uniform(t, seed * 7919 + shape.numel(), -1, 1);
        return t;
    }
}
