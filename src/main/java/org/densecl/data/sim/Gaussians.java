package org.densecl.data.sim;

import java.util.SplittableRandom;

/**
 * Gaussian random numbers for the simulator. {@link #normal} is an exact Box-Muller draw, for the
 * few dozen shape parameters of an image. Everything drawn per pixel or per grid cell uses
 * {@link #TABLE} instead: 2^14 complex standard normal samples drawn once from a fixed seed,
 * centred and scaled to exactly E|g|^2 = 1, picked by 14 random bits (four picks per 64-bit draw).
 * Each pick is an independent draw from an empirical distribution whose moments match the normal
 * to about 1 %, so after the PSF sums tens of picks the speckle is Rayleigh (the realism tests check
 * mean/std and the Nakagami m), at a fraction of the cost of a logarithm and a cosine per pixel.
 * The table (128 KB) stays in the L2 cache. StrictMath everywhere: the same bytes on every machine.
 */
final class Gaussians {
    static final int TABLE_BITS = 14;
    static final int TABLE_MASK = (1 << TABLE_BITS) - 1;
    /** Interleaved (re, im) pairs, each part N(0, 1/2), so that E|g|^2 = 1 exactly over the table. */
    static final float[] TABLE = new float[2 << TABLE_BITS];

    private static final float SQRT2 = (float) Math.sqrt(2);

    static {
        int n = 1 << TABLE_BITS;
        SplittableRandom r = new SplittableRandom(0x5EED_0F_5BEC_C1EL);
        double[] v = new double[2 * n];
        double meanRe = 0, meanIm = 0;
        for (int i = 0; i < n; i++) {
            double u1 = r.nextDouble(), u2 = r.nextDouble();
            double rad = StrictMath.sqrt(-2 * StrictMath.log(1 - u1));
            v[2 * i] = rad * StrictMath.cos(2 * Math.PI * u2);
            v[2 * i + 1] = rad * StrictMath.sin(2 * Math.PI * u2);
            meanRe += v[2 * i] / n;
            meanIm += v[2 * i + 1] / n;
        }
        double power = 0;
        for (int i = 0; i < n; i++) {
            v[2 * i] -= meanRe;
            v[2 * i + 1] -= meanIm;
            power += (v[2 * i] * v[2 * i] + v[2 * i + 1] * v[2 * i + 1]) / n;
        }
        double scale = 1 / StrictMath.sqrt(power);
        for (int i = 0; i < 2 * n; i++) {
            TABLE[i] = (float) (v[i] * scale);
        }
    }

    private Gaussians() {}

    /** One exact standard normal draw. */
    static double normal(SplittableRandom rng) {
        double u1 = rng.nextDouble(), u2 = rng.nextDouble();
        return StrictMath.sqrt(-2 * StrictMath.log(1 - u1)) * StrictMath.cos(2 * Math.PI * u2);
    }

    /** A standard normal draw from the table: for fields of many values (grid cells, knots). */
    static float fast(SplittableRandom rng) {
        return TABLE[(rng.nextInt() & TABLE_MASK) << 1] * SQRT2;
    }
}
