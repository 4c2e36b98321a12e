package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.densecl.backend.ConvGeometry;
import org.densecl.backend.cpu.gemm.StemConv;
import org.densecl.backend.cpu.parallel.Parallel;
import org.densecl.backend.ref.RefBackend;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;
import org.densecl.testing.TensorAssert;
import org.densecl.testing.VectorWidths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The direct stem convolution ({@link StemConv}: C * strideW = 6, read straight from a padded copy of
 * the input) against the reference backend, and bit for bit against the implicit GEMM it replaces. Sizes
 * are awkward on purpose: output widths that leave a partial tile at the end of every row (Q = 29, 15),
 * the last image's last row too (where the partial tile reads past the input into the slack), two
 * images, K = 16 and 48, K = 8 and 25 (a last panel only partly filters), a 3x3/2 pad-1 and a 7x7/2
 * pad-3 geometry, a second call with a smaller
 * input (the padded copy's borders must be laid out anew), then the same layout with 1 and 3 images
 * (the copy is reused as it is: its borders must still be zero). The filter gradient (K in whole panels)
 * against the reference with 1, 2 and 3 threads, bit for bit the same whatever the thread count, onto a dw
 * that already holds values, with a row of 265 output pixels (two k runs).
 */
class CpuConvStemTest {
    private static final int NR = org.densecl.backend.cpu.gemm.MicroKernel.NR;
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
                // K in whole B panels (NR channels: 16 with 8-float vectors, 32 with 16-float ones)
                ConvGeometry.of(2, 57, 58, 3, 3 * NR, 7, 2, 3, 1), // P = Q = 29: a partial tile of 5 pixels
                ConvGeometry.of(1, 30, 29, 3, NR, 3, 2, 1, 1),     // 3x3/2: P = 15, Q = 15
                ConvGeometry.of(2, 24, 24, 3, 2 * NR, 7, 2, 3, 1), // Q = 12: whole tiles only
                ConvGeometry.of(1, 24, 24, 3, NR, 7, 2, 3, 1),     // the same layout with fewer images ...
                ConvGeometry.of(3, 24, 24, 3, NR, 7, 2, 3, 1),     // ... and more: the copy is not cleared
                // K not in whole panels: the last panel's tiles go through the edge tile
                ConvGeometry.of(2, 57, 58, 3, 8, 7, 2, 3, 1),      // the quick recipes' 8-channel stem, Q = 29
                ConvGeometry.of(1, 30, 29, 3, NR + NR / 2 + 1, 3, 2, 1, 1)); // a whole panel and a partial one
    }

    @Test
    void directStemMatchesReferenceAndTheGemmsBits() {
        CpuConv conv = new CpuConv(two, new CpuGemm(two, "vector"));
        CpuConv viaImplicitGemm = new CpuConv(two, new CpuGemm(two, "vector"), CpuTuning.DEFAULT.withStemConv(false));
        for (ConvGeometry g : geometries()) {
            assertTrue(StemConv.applies(g), "StemConv takes " + g);
            Tensor x = random(g.xShape(), 1), w = random(g.wShape(), 2);
            Tensor expected = ref.allocate(g.yShape()), y = ref.allocate(g.yShape()), viaGemm = ref.allocate(g.yShape());
            ref.fill(y, Float.NaN); // overwritten, never read
            ref.conv2dForward(g, x, w, null, expected);
            conv.forward(g, x, w, null, y);
            long terms = (long) g.r() * g.s() * g.c();
            TensorAssert.close("conv2dForward direct stem " + g, expected, y, GemmTesting.atol(terms), GemmTesting.RTOL);
            viaImplicitGemm.forward(g, x, w, null, viaGemm);
            for (long i = 0; i < y.numel(); i++) {
                assertEquals(Float.floatToRawIntBits(viaGemm.getFloat(i)), Float.floatToRawIntBits(y.getFloat(i)),
                        "direct stem " + g + ": element " + i + " differs from the implicit GEMM's");
            }
        }
    }

    @Test
    void directStemFilterGradientMatchesReferenceForAnyThreadCount() {
        // Q = 265: a row of pixels in two runs (256 + 9) of the k loop.
        List<ConvGeometry> cases = new java.util.ArrayList<>(geometries().subList(0, 5));
        cases.add(ConvGeometry.of(1, 9, 530, 3, NR, 3, 2, 1, 1));
        try (Parallel one = new Parallel(1); Parallel three = new Parallel(3)) {
            CpuConv[] convs = {new CpuConv(one, new CpuGemm(one, "vector")), new CpuConv(two, new CpuGemm(two, "vector")),
                    new CpuConv(three, new CpuGemm(three, "vector"))};
            for (ConvGeometry g : cases) {
                assertTrue(StemConv.appliesToFilterGradient(g), "StemConv takes the filter gradient of " + g);
                Tensor x = random(g.xShape(), 3), dy = random(g.yShape(), 4), expected = random(g.wShape(), 5);
                ref.conv2dBackwardFilter(g, x, dy, expected, null);
                Tensor first = null;
                for (CpuConv conv : convs) {
                    Tensor dw = random(g.wShape(), 5); // accumulated onto
                    conv.backwardFilter(g, x, dy, dw, null);
                    long terms = (long) g.n() * g.p() * g.q() + 1;
                    TensorAssert.close("conv2dBackwardFilter direct stem " + g, expected, dw, GemmTesting.atol(terms),
                            GemmTesting.RTOL);
                    if (first == null) {
                        first = dw;
                    }
                    for (long i = 0; i < dw.numel(); i++) {
                        assertEquals(Float.floatToRawIntBits(first.getFloat(i)), Float.floatToRawIntBits(dw.getFloat(i)),
                                "direct stem filter gradient " + g + ": element " + i + " depends on the thread count");
                    }
                }
            }
        }
    }

    @Test
    void otherGeometriesKeepTheGemm() {
        assertFalse(StemConv.appliesToFilterGradient(ConvGeometry.of(2, 57, 58, 3, NR / 2, 7, 2, 3, 1)),
                "K = NR / 2: a partial B panel");
        assertFalse(StemConv.appliesToFilterGradient(ConvGeometry.of(1, 30, 29, 3, NR + NR / 2 + 1, 3, 2, 1, 1)),
                "K not in whole panels");
        assertFalse(StemConv.applies(ConvGeometry.of(2, 57, 58, 1, 48, 7, 2, 3, 1)), "1 channel: fields 2 apart");
        assertFalse(StemConv.applies(ConvGeometry.of(1, 9, 9, 3, NR, 7, 2, 3, 1)), "Q = 5 < one tile");
    }

    private static Tensor random(org.densecl.tensor.Shape shape, long seed) {
        Tensor t = ref.allocate(shape);
        Rand.uniform(t, seed * 7919 + shape.numel(), -1, 1);
        return t;
    }
}
