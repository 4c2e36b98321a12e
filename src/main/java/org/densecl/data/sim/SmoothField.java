package org.densecl.data.sim;

import java.util.SplittableRandom;

/**
 * A slowly varying multiplicative field: log-normal values (standard deviation given in dB) on a
 * coarse grid of cells, bilinearly interpolated to pixels. Models large-scale echo inhomogeneity of
 * tissue and debris inside fluid, without touching the fine speckle statistics.
 */
final class SmoothField {
    private static final double LN10_20 = StrictMath.log(10) / 20; // dB of amplitude to natural log
    private SmoothField() {}

    /**
     * Multiplies {@code scene.texture} by the field wherever the label equals {@code only}
     * ({@code only < 0}: everywhere). Callers pass a stream of its own ({@code rng.split()}).
     */
    static void multiply(Scene s, int only, double stdDb, double cellRows, SplittableRandom rng) {
        double cell = Math.max(cellRows, 1);
        int gr = (int) Math.ceil(s.rows / cell) + 2, gc = (int) Math.ceil(s.cols / cell) + 2;
        float[] grid = new float[gr * gc]; // (gr, gc) coarse multipliers
        if (stdDb == 0) {
            return;
        }
        for (int i = 0; i < grid.length; i++) {
            grid[i] = (float) StrictMath.exp(stdDb * LN10_20 * Gaussians.fast(rng));
        }
        float[] row = new float[gc];
        byte label = (byte) only;
        for (int r = 0; r < s.rows; r++) {
            double fr = r / cell;
            int r0 = (int) fr;
            float wr = (float) (fr - r0);
            for (int j = 0; j < gc; j++) {
                row[j] = grid[r0 * gc + j] * (1 - wr) + grid[(r0 + 1) * gc + j] * wr;
            }
            int base = r * s.cols;
            for (int c = 0; c < s.cols; c++) {
                if (only >= 0 && s.labels[base + c] != label) {
                    continue;
                }
                double fc = c / cell;
                int c0 = (int) fc;
                float wc = (float) (fc - c0);
                s.texture[base + c] *= row[c0] * (1 - wc) + row[c0 + 1] * wc;
            }
        }
    }
}
