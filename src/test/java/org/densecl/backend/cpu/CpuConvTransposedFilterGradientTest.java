package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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

/**
 * The 1x1 filter gradient computed as dW^T = X^T dY (widening convolutions with many pixels): bit for bit
 * the gradient of dW = dY^T X, onto a dw that already holds values, and close to the reference backend.
 */
class CpuConvTransposedFilterGradientTest {
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
                // 1798 pixels, 67 -> 203: both orientations take the split-k mode
                new ConvGeometry(2, 31, 29, 67, 203, 1, 1, 1, 1, 0, 0, 1, 1),
                // 1260 pixels, 64 -> 1000: dW's 1000 rows take the shared-B mode, dW^T's 64 the split-k mode
                new ConvGeometry(1, 36, 35, 64, 1000, 1, 1, 1, 1, 0, 0, 1, 1),
                // 1056 pixels, 64 -> 4100: dW^T (64 x 4100) is too large for split-k, so column slabs
                new ConvGeometry(1, 33, 32, 64, 4100, 1, 1, 1, 1, 0, 0, 1, 1));
    }

    @Test
    void choosesTheTransposeOnlyForWideningConvolutionsWithManyPixels() {
        assertTrue(CpuConv.transposesFilterGradient(8 * 56 * 56, 256, 64), "ResNet-50 conv3 at 56x56");
        assertTrue(CpuConv.transposesFilterGradient(8 * 28 * 28, 512, 128), "ResNet-50 conv3 at 28x28");
        assertFalse(CpuConv.transposesFilterGradient(8 * 14 * 14, 1024, 256), "few pixels for the transposes");
        assertFalse(CpuConv.transposesFilterGradient(8 * 56 * 56, 64, 256), "narrowing: dY is already narrower");
        assertFalse(CpuConv.transposesFilterGradient(8 * 32 * 32, 32, 8), "8 input channels: A panels mostly padding");
        for (ConvGeometry g : geometries()) {
            assertTrue(CpuConv.transposesFilterGradient((long) g.n() * g.p() * g.q(), g.k(), g.c()), g.toString());
        }
    }

    @Test
    void transposedGradientHasTheBitsOfTheDirectOneAndMatchesReference() {
        CpuTuning on = CpuTuning.DEFAULT, off = CpuTuning.DEFAULT.withTransposedFilterGradient(false);
        CpuConv transposed = new CpuConv(two, new CpuGemm(two, "vector", on.gemmPaths()), on);
        CpuConv direct = new CpuConv(two, new CpuGemm(two, "vector", off.gemmPaths()), off);
        for (ConvGeometry g : geometries()) {
            Tensor x = random(g.xShape(), 1), dy = random(g.yShape(), 2);
            Tensor dwT = random(g.wShape(), 3), dwD = random(g.wShape(), 3), expected = random(g.wShape(), 3);
            Tensor dbT = random(Shape.of(g.k()), 4), dbD = random(Shape.of(g.k()), 4);
            transposed.backwardFilter(g, x, dy, dwT, dbT);
            direct.backwardFilter(g, x, dy, dwD, dbD);
            assertArrayEquals(floats(dwD), floats(dwT), "dw of " + g + ": dW^T = X^T dY differs bitwise");
            assertArrayEquals(floats(dbD), floats(dbT), "db of " + g);
            ref.conv2dBackwardFilter(g, x, dy, expected, null);
            long terms = (long) g.n() * g.p() * g.q() + 1;
            TensorAssert.close("conv2dBackwardFilter dW^T " + g, expected, dwT, GemmTesting.atol(terms),
                    GemmTesting.RTOL);
        }
    }

    private static float[] floats(Tensor t) {
        float[] out = new float[(int) t.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.getFloat(i);
        }
        return out;
    }

    private static Tensor random(Shape shape, long seed) {
        Tensor t = ref.allocate(shape);
        Rand.uniform(t, seed * 7919 + shape.numel(), -1, 1);
        return t;
    }
}
