package org.densecl.data.augment;

import org.densecl.data.io.GrayImage;

/**
 * Separable Gaussian blur (the MoCo v2 / SimCLR augmentation), radius ceil(3 sigma), edges
 * reflected (…c b | a b c… , no edge pixel repeated), weights normalised to sum 1 so flat regions
 * keep their level.
 */
public final class GaussianBlur {
    private GaussianBlur() {}

    public static GrayImage apply(GrayImage src, double sigma) {
        int r = Math.max(1, (int) Math.ceil(3 * sigma));
        float[] k = new float[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) {
            double v = Math.exp(-0.5 * i * i / (sigma * sigma));
            k[i + r] = (float) v;
            sum += v;
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= (float) sum;
        }
        int h = src.height(), w = src.width();
        float[] in = src.pixels(), tmp = new float[h * w], out = new float[h * w];
        for (int z = 0; z < h; z++) { // horizontal
            int base = z * w;
            for (int x = 0; x < w; x++) {
                float s = 0;
                for (int t = -r; t <= r; t++) {
                    s += k[t + r] * in[base + reflect(x + t, w)];
                }
                tmp[base + x] = s;
            }
        }
        for (int z = 0; z < h; z++) { // vertical, row-wise multiply-adds
            int o = z * w;
            for (int t = -r; t <= r; t++) {
                int src2 = reflect(z + t, h) * w;
                float g = k[t + r];
                for (int x = 0; x < w; x++) {
                    out[o + x] += g * tmp[src2 + x];
                }
            }
        }
        return new GrayImage(h, w, out);
    }

    /** Index reflected into [0, n): -1 -> 1, n -> n - 2 (n = 1: always 0). */
    static int reflect(int i, int n) {
        if (n == 1) {
            return 0;
        }
        int period = 2 * (n - 1);
        int m = Math.floorMod(i, period);
        return m < n ? m : period - m;
    }
}
