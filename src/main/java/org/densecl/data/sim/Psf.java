package org.densecl.data.sim;

import java.util.Arrays;

/**
 * The point spread function of the convolution model: a separable Gaussian envelope, applied to the
 * complex scatterer field axially (sigmaZ, constant) and then laterally (sigmaX(z), one kernel per
 * image row). Kernels reach 3 sigma and are normalised to unit energy (sum of squares 1), so the
 * mean intensity of fully developed speckle does not depend on the beam width.
 *
 * <p>Layout: one array per row, complex interleaved (re, im, re, im, ...). Every inner loop is
 * {@link #axpy}: {@code out[i] += g * in[i]} over two arrays indexed from 0, the form C2
 * auto-vectorises (with an offset on either array it cannot rule out aliasing and stays scalar). The
 * lateral pass therefore copies each shifted input row to a scratch row first.
 */
final class Psf {
    private float[][] axial = new float[0][];   // (height)(2 cols) after the axial pass
    private float[] shifted = new float[0];     // (2 width) lateral input shifted by one tap
    private float[] kernel = new float[0];

    /** Taps on each side of a kernel of width sigma (pixels). */
    static int radius(double sigma) {
        return Math.max(1, (int) Math.ceil(3 * sigma));
    }

    /** The widest lateral reach over rows [-pad, height + pad), for the scene's lateral padding. */
    static int lateralRadius(Acquisition acq, int height, int padZ) {
        double worst = Math.max(Math.abs(-padZ - acq.focusRow()), Math.abs(height + padZ - acq.focusRow()));
        double d = worst / acq.rayleighRows();
        return radius(acq.sigmaX0() * Math.sqrt(1 + d * d));
    }

    /**
     * Energy-normalised Gaussian taps -r..r into k[0..2r]. One exp per kernel: successive taps
     * follow g(i+1) = g(i) q^(2i+1) with q = exp(-1 / (2 sigma^2)).
     */
    static void gaussian(double sigma, int r, float[] k) {
        double q = StrictMath.exp(-0.5 / (sigma * sigma)), q2 = q * q;
        double g = 1, ratio = q, sum = 1;
        k[r] = 1f;
        for (int i = 1; i <= r; i++) {
            g *= ratio;
            ratio *= q2;
            k[r + i] = (float) g;
            k[r - i] = (float) g;
            sum += 2 * g * g;
        }
        float norm = (float) (1 / Math.sqrt(sum));
        for (int i = 0; i <= 2 * r; i++) {
            k[i] *= norm;
        }
    }

    /**
     * Convolves the padded field (rows)(2 cols) into {@code out} (height)(2 width), both complex
     * interleaved. Parallel axis: none (one image per thread).
     */
    void convolve(Scene s, Acquisition acq, float[][] field, float[][] out) {
        int h = s.height, w2 = 2 * s.width, c2 = 2 * s.cols;
        ensure(h, c2, w2, Math.max(radius(acq.sigmaZ()), s.padX));
        int rz = radius(acq.sigmaZ());
        gaussian(acq.sigmaZ(), rz, kernel);
        for (int z = 0; z < h; z++) { // output row z sums padded rows z + padZ + k, k in [-rz, rz]
            float[] acc = axial[z];
            Arrays.fill(acc, 0, c2, 0f);
            for (int k = -rz; k <= rz; k++) {
                axpy(acc, field[z + s.padZ + k], kernel[k + rz], c2);
            }
        }
        for (int z = 0; z < h; z++) { // output (z, x) sums axial (z, x + padX + k) with this row's kernel
            double sigma = acq.sigmaX(z + 0.5);
            int rx = Math.min(radius(sigma), s.padX);
            gaussian(sigma, rx, kernel);
            float[] acc = out[z];
            Arrays.fill(acc, 0, w2, 0f);
            for (int k = -rx; k <= rx; k++) {
                System.arraycopy(axial[z], 2 * (s.padX + k), shifted, 0, w2);
                axpy(acc, shifted, kernel[k + rx], w2);
            }
        }
    }

    /** out[i] += g * in[i] for i in [0, n). */
    static void axpy(float[] out, float[] in, float g, int n) {
        for (int i = 0; i < n; i++) {
            out[i] += g * in[i];
        }
    }

    private void ensure(int h, int c2, int w2, int r) {
        if (axial.length < h || axial[0].length < c2) {
            axial = new float[h][c2];
        }
        if (shifted.length < w2) {
            shifted = new float[w2];
        }
        if (kernel.length < 2 * r + 1) {
            kernel = new float[2 * r + 1];
        }
    }
}
