package org.densecl.data.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.densecl.data.Range;
import org.junit.jupiter.api.Test;

/** The numeric building blocks: fast log, the Gaussian table, PSF kernels, ranges. */
class SimMathTest {
    @Test
    void fastLogIsAccurateToATenthousandth() {
        SplittableRandom r = new SplittableRandom(1);
        double worst = 0;
        for (int i = 0; i < 100_000; i++) {
            float x = (float) Math.exp(-60 + 80 * r.nextDouble());
            worst = Math.max(worst, Math.abs(FastLog.log2(x) - Math.log(x) / Math.log(2)));
        }
        // the 12-bit mantissa table's half-bin error bound is log2(1 + 2^-13) = 1.8e-4
        assertTrue(worst < 1.8e-4, "fast log2 max error " + worst);
        assertEquals(0.0, FastLog.log2(1f), 1.8e-4);
        assertEquals(-3.0, FastLog.log2(0.125f), 1.8e-4);
    }

    @Test
    void gaussianTableHasNormalMoments() {
        int n = Gaussians.TABLE.length / 2;
        double m1 = 0, m2 = 0, m4 = 0;
        for (int i = 0; i < n; i++) {
            double p = (double) Gaussians.TABLE[2 * i] * Gaussians.TABLE[2 * i]
                    + (double) Gaussians.TABLE[2 * i + 1] * Gaussians.TABLE[2 * i + 1];
            m1 += Gaussians.TABLE[2 * i] / n;
            m2 += p / n;
            m4 += p * p / n;
        }
        assertEquals(0.0, m1, 1e-6, "mean");
        assertEquals(1.0, m2, 1e-6, "E|g|^2 (normalised exactly)");
        // complex circular Gaussian: E|g|^4 = 2 (E|g|^2)^2; sampling error of 2^14 draws is ~2 %
        assertEquals(2.0, m4, 0.06, "E|g|^4");
    }

    @Test
    void psfKernelsHaveUnitEnergy() {
        for (double sigma : new double[] {0.4, 1.0, 2.7, 6.0}) {
            int r = Psf.radius(sigma);
            float[] k = new float[2 * r + 1];
            Psf.gaussian(sigma, r, k);
            double e = 0;
            for (float v : k) {
                e += v * v;
            }
            assertEquals(1.0, e, 1e-5, "energy of the sigma " + sigma + " kernel");
            assertEquals(k[0], k[2 * r], 0f, "symmetry");
        }
    }

    @Test
    void rangesParseAndSample() {
        assertEquals(new Range(1, 2), Range.parse(java.util.List.of(1, 2)));
        assertEquals(Range.of(3), Range.parse(3.0));
        assertThrows(IllegalArgumentException.class, () -> Range.parse(java.util.List.of(1, 2, 3)));
        assertThrows(IllegalArgumentException.class, () -> new Range(2, 1));
        SplittableRandom r = new SplittableRandom(2);
        Range g = new Range(0.5, 8);
        for (int i = 0; i < 1000; i++) {
            double v = g.sample(r), w = g.sampleLog(r);
            assertTrue(v >= 0.5 && v <= 8 && w >= 0.5 && w <= 8);
        }
    }
}
