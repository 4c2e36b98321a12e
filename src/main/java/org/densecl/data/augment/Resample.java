package org.densecl.data.augment;

import org.densecl.data.io.GrayImage;
import org.densecl.data.io.LabelImage;

/**
 * Resizing of a region of an image, as PIL does it: separable, with a triangle (bilinear) filter
 * whose support widens with the downscale factor, so shrinking averages every input pixel instead
 * of aliasing (PIL's "antialias"); pixel centres at +0.5 (align_corners = False). Samples outside
 * the image are clamped to its edge. Labels use nearest neighbour, as mmsegmentation does.
 */
public final class Resample {
    private Resample() {}

    /** Precomputed taps along one axis: output o reads in[first[o] .. first[o] + count[o]). */
    record Taps(int[] first, int[] count, float[] weight, int stride) {}

    /**
     * Taps for mapping the input range [start, start + length) onto {@code out} samples, in an axis
     * of {@code size} pixels.
     */
    static Taps taps(double start, double length, int out, int size) {
        double scale = length / out;
        double support = Math.max(1, scale); // triangle half-width in input pixels
        int stride = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[out], count = new int[out];
        float[] weight = new float[out * stride];
        for (int o = 0; o < out; o++) {
            double centre = start + (o + 0.5) * scale;
            int lo = Math.max(0, (int) Math.floor(centre - support));
            int hi = Math.min(size, (int) Math.ceil(centre + support));
            double sum = 0;
            int n = 0;
            for (int i = lo; i < hi && n < stride; i++) {
                double w = 1 - Math.abs((i + 0.5 - centre) / support);
                if (w > 0) {
                    if (n == 0) {
                        first[o] = i;
                    }
                    weight[o * stride + n] = (float) w;
                    sum += w;
                    n++;
                } else if (n > 0) {
                    break;
                }
            }
            if (n == 0) { // centre outside the image: clamp to the nearest edge pixel
                first[o] = Math.clamp((long) Math.floor(centre), 0, size - 1);
                weight[o * stride] = 1;
                n = 1;
                sum = 1;
            }
            for (int k = 0; k < n; k++) {
                weight[o * stride + k] /= (float) sum;
            }
            count[o] = n;
        }
        return new Taps(first, count, weight, stride);
    }

    /** The region (y0, x0, h, w) of {@code src} resized to outH x outW. */
    public static GrayImage region(GrayImage src, double y0, double x0, double h, double w, int outH, int outW) {
        Taps tx = taps(x0, w, outW, src.width()), ty = taps(y0, h, outH, src.height());
        int rowLo = ty.first()[0], rowHi = 0;
        for (int o = 0; o < outH; o++) {
            rowHi = Math.max(rowHi, ty.first()[o] + ty.count()[o]);
            rowLo = Math.min(rowLo, ty.first()[o]);
        }
        // horizontal pass over the rows the vertical pass will read
        float[] mid = new float[(rowHi - rowLo) * outW]; // (rows used, outW)
        float[] in = src.pixels();
        for (int z = rowLo; z < rowHi; z++) {
            int base = z * src.width(), o = (z - rowLo) * outW;
            for (int x = 0; x < outW; x++) {
                int f = tx.first()[x], n = tx.count()[x], wb = x * tx.stride();
                float s = 0;
                for (int k = 0; k < n; k++) {
                    s += tx.weight()[wb + k] * in[base + f + k];
                }
                mid[o + x] = s;
            }
        }
        float[] out = new float[outH * outW]; // (outH, outW)
        for (int y = 0; y < outH; y++) {
            int f = ty.first()[y], n = ty.count()[y], wb = y * ty.stride();
            for (int k = 0; k < n; k++) {
                float g = ty.weight()[wb + k];
                int m = (f + k - rowLo) * outW, o = y * outW;
                for (int x = 0; x < outW; x++) {
                    out[o + x] += g * mid[m + x];
                }
            }
        }
        return new GrayImage(outH, outW, out);
    }

    /** The whole image resized. */
    public static GrayImage resize(GrayImage src, int outH, int outW) {
        return region(src, 0, 0, src.height(), src.width(), outH, outW);
    }

    /** Labels resized by nearest neighbour (the source pixel whose centre is nearest). */
    public static LabelImage resizeNearest(LabelImage src, int outH, int outW) {
        byte[] out = new byte[outH * outW];
        int[] sx = new int[outW];
        for (int x = 0; x < outW; x++) {
            sx[x] = Math.min(src.width() - 1, (int) Math.floor((x + 0.5) * src.width() / outW));
        }
        for (int y = 0; y < outH; y++) {
            int sy = Math.min(src.height() - 1, (int) Math.floor((y + 0.5) * src.height() / outH));
            for (int x = 0; x < outW; x++) {
                out[y * outW + x] = src.labels()[sy * src.width() + sx[x]];
            }
        }
        return new LabelImage(outH, outW, out);
    }
}
