package org.densecl.data.sim;

/** Statistics used by the realism tests, on row-major (height, width) arrays. */
final class SpeckleStats {
    private SpeckleStats() {}

    /** Mean and standard deviation of v over rows [z0, z1) and columns [x0, x1). */
    static double[] meanStd(float[] v, int width, int z0, int z1, int x0, int x1) {
        double s = 0, s2 = 0;
        long n = 0;
        for (int z = z0; z < z1; z++) {
            for (int x = x0; x < x1; x++) {
                double a = v[z * width + x];
                s += a;
                s2 += a * a;
                n++;
            }
        }
        double m = s / n;
        return new double[] {m, Math.sqrt(Math.max(0, s2 / n - m * m))};
    }

    /** Nakagami m = E[R^2]^2 / Var(R^2): 1 for Rayleigh, < 1 sparse, > 1 with a coherent part. */
    static double nakagamiM(float[] r, int width, int z0, int z1, int x0, int x1) {
        double s = 0, s2 = 0;
        long n = 0;
        for (int z = z0; z < z1; z++) {
            for (int x = x0; x < x1; x++) {
                double p = (double) r[z * width + x] * r[z * width + x];
                s += p;
                s2 += p * p;
                n++;
            }
        }
        double m = s / n;
        return m * m / (s2 / n - m * m);
    }

    /**
     * FWHM (pixels) of the normalised intensity autocovariance along x (axial = false) or z
     * (axial = true) over the block, found where it crosses 0.5 by interpolating ln C linearly in
     * lag^2 between the bracketing integer lags (exact for a Gaussian, unbiased by the lag grid).
     */
    static double autocovarianceFwhm(float[] env, int width, int z0, int z1, int x0, int x1, boolean axial) {
        double mean = 0;
        long n = 0;
        for (int z = z0; z < z1; z++) {
            for (int x = x0; x < x1; x++) {
                mean += sq(env[z * width + x]);
                n++;
            }
        }
        mean /= n;
        double c0 = cov(env, width, z0, z1, x0, x1, mean, 0, axial);
        double prev = 1;
        for (int lag = 1; lag < 40; lag++) {
            double c = cov(env, width, z0, z1, x0, x1, mean, lag, axial) / c0;
            if (c <= 0.5) {
                double a2 = sq(lag - 1), b2 = sq(lag);
                double la = Math.log(prev), lb = Math.log(Math.max(c, 1e-6));
                double h2 = a2 + (Math.log(0.5) - la) * (b2 - a2) / (lb - la);
                return 2 * Math.sqrt(h2);
            }
            prev = c;
        }
        return Double.NaN;
    }

    private static double cov(float[] env, int width, int z0, int z1, int x0, int x1, double mean, int lag, boolean axial) {
        double s = 0;
        long n = 0;
        int dz = axial ? lag : 0, dx = axial ? 0 : lag;
        for (int z = z0; z + dz < z1; z++) {
            for (int x = x0; x + dx < x1; x++) {
                s += (sq(env[z * width + x]) - mean) * (sq(env[(z + dz) * width + x + dx]) - mean);
                n++;
            }
        }
        return s / n;
    }

    /**
     * Generalised contrast-to-noise ratio (Rodriguez-Molares et al. 2020) of two sets of 8-bit
     * values: 1 minus the overlap of their normalised histograms; 0 = indistinguishable, 1 = separable.
     */
    static double gcnr(int[] histA, int[] histB) {
        long na = 0, nb = 0;
        for (int i = 0; i < 256; i++) {
            na += histA[i];
            nb += histB[i];
        }
        double overlap = 0;
        for (int i = 0; i < 256; i++) {
            overlap += Math.min(histA[i] / (double) na, histB[i] / (double) nb);
        }
        return 1 - overlap;
    }

    static double sq(double v) {
        return v * v;
    }
}
