package org.densecl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** The tier-independent exp and lane sum that the softmax kernels use. */
class CpuVecTest {
    @Test
    void speciesIsEightFloatsUnlessThePropertyNamesAnotherWidth() {
        // The build reruns the species tests at other widths (pom.xml): this proves those runs got the
        // width they asked for; without the property and without a model's request (WidthChoice), 8 floats.
        String bits = System.getProperty("densecl.vectorBits", "");
        int expected = bits.isEmpty() ? 8 : Integer.parseInt(bits) / 32;
        assertEquals(expected, CpuVec.L, "densecl.vectorBits=" + bits);
        assertEquals(CpuVec.L, org.densecl.backend.cpu.simd.Lanes.COUNT, "one species for every kernel");
        assertEquals(2 * CpuVec.L, org.densecl.backend.cpu.gemm.MicroKernel.NR, "the GEMM tile is two vectors wide");
    }

    @Test
    void aModelsWidthRequestComesTooLateOnceTheKernelsRan() {
        int fixedBits = CpuVec.F.vectorBitSize(); // the kernels' width is fixed by now
        assertEquals(fixedBits, org.densecl.backend.cpu.simd.WidthChoice.forNarrowestLayer(64));
        assertEquals(fixedBits, org.densecl.backend.cpu.simd.WidthChoice.forNarrowestLayer(8));
    }

    @Test
    void sixteenFloatsOnlyForAvx512AndLayersThatFillThem() {
        // AVX-512 (16 floats): full-width ResNets (64-channel stem) get 16; the quick recipes' 8-channel
        // layers, 24 channels, and every AVX2 (8 floats) or narrower CPU get 8.
        assertEquals(512, org.densecl.backend.cpu.simd.WidthChoice.bitsFor(16, 64));
        assertEquals(512, org.densecl.backend.cpu.simd.WidthChoice.bitsFor(16, 16));
        assertEquals(256, org.densecl.backend.cpu.simd.WidthChoice.bitsFor(16, 8));
        assertEquals(256, org.densecl.backend.cpu.simd.WidthChoice.bitsFor(16, 24));
        assertEquals(256, org.densecl.backend.cpu.simd.WidthChoice.bitsFor(8, 64));
        assertEquals(256, org.densecl.backend.cpu.simd.WidthChoice.bitsFor(4, 64));
    }

    @Test
    void theJitIsToldToInlineTheHelpersThatReturnVectors() {
        assertEquals("added", org.densecl.backend.cpu.simd.InlineDirective.install());
    }

    @Test
    void expMatchesMathExpWithinAFewUlp() {
        float[] x = new float[CpuVec.L];
        double worst = 0;
        // the softmax range (x - max <= 0) and some positive values; 200k points
        for (int i = 0; i < 200_000; i += CpuVec.L) {
            for (int l = 0; l < CpuVec.L; l++) {
                x[l] = -87f + 95f * (i + l) / 200_000f;
            }
            float[] y = CpuVec.exp(FloatVector.fromArray(CpuVec.F, x, 0)).toArray();
            for (int l = 0; l < CpuVec.L; l++) {
                double want = Math.exp(x[l]);
                worst = Math.max(worst, Math.abs(y[l] - want) / want);
            }
        }
        // The cubic q is fitted to 1.0e-7; with float rounding ~2 ulp of float (2^-23 = 1.2e-7) after the
        // exact 2^n scaling (measured 1.8e-7). A wrong coefficient or reduction step is off by 1e-5 or more.
        assertTrue(worst < 3e-7, "CpuVec.exp worst relative error " + worst);
        float[] limits = CpuVec.exp(FloatVector.broadcast(CpuVec.F, -1000f)).toArray();
        assertTrue(limits[0] > 0 && limits[0] < 2e-38, "exp(-1000) clamps to a tiny positive number: " + limits[0]);
        assertEquals(1f, CpuVec.exp(FloatVector.zero(CpuVec.F)).lane(0), 1e-7f);
    }

    /**
     * The vector exp gives exactly the bits of the same steps in scalar float arithmetic (Math.fma, float
     * + and *, an int shift): {@code CpuVec.exp(float)}, which short rows use instead. Scalar float arithmetic is IEEE-exact in every JIT tier, so this is what
     * makes exp tier-independent; a step that rounds differently when compiled (lanewise(EXP), a
     * reordered reduction) fails here. The sweep covers the clamps, 0 and the infinities.
     */
    @Test
    void expHasTheBitsOfItsScalarReplay() {
        float[] x = new float[CpuVec.L];
        int n = 100_003;
        for (int i = 0; i < n; i += CpuVec.L) {
            for (int l = 0; l < CpuVec.L; l++) {
                int j = i + l;
                x[l] = j % 997 == 0 ? (j % 2 == 0 ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY)
                        : -100f + 200f * j / n;
            }
            float[] y = CpuVec.exp(FloatVector.fromArray(CpuVec.F, x, 0)).toArray();
            for (int l = 0; l < CpuVec.L; l++) {
                assertEquals(Float.floatToRawIntBits(CpuVec.exp(x[l])), Float.floatToRawIntBits(y[l]),
                        "CpuVec.exp(" + x[l] + ") = " + y[l] + " but its scalar twin gives " + CpuVec.exp(x[l]));
            }
        }
    }

    @Test
    void sumLanesAddsInLaneOrder() {
        float[] v = new float[CpuVec.L];
        v[0] = 1e8f;
        v[1] = 1f;
        v[CpuVec.L - 1] = -1e8f;
        float inOrder = 0;
        for (float f : v) {
            inOrder += f;
        }
        assertEquals(inOrder, CpuVec.sumLanes(FloatVector.fromArray(CpuVec.F, v, 0)));
    }
}
