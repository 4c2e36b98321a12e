package org.densecl.data.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.densecl.data.io.GrayImage;
import org.densecl.data.io.LabelImage;
import org.junit.jupiter.api.Test;

/** Resizing and blurring against hand-computed values. */
class ResampleTest {
    static GrayImage ramp(int h, int w) {
        float[] p = new float[h * w];
        for (int z = 0; z < h; z++) {
            for (int x = 0; x < w; x++) {
                p[z * w + x] = (z * 7 + x * 3) % 11 / 10f;
            }
        }
        return new GrayImage(h, w, p);
    }

    @Test
    void sameSizeRegionIsAnExactCopy() {
        GrayImage a = ramp(13, 9);
        assertArrayEquals(a.pixels(), Resample.resize(a, 13, 9).pixels());
        GrayImage c = Resample.region(a, 2, 3, 5, 4, 5, 4);
        assertEquals(a.get(2 + 4, 3 + 3), c.get(4, 3), 0f);
    }

    @Test
    void halvingAveragesWithTheWidenedTriangle() {
        // 2x shrink: support 2 input pixels, weights 1/8, 3/8, 3/8, 1/8 around the output centre
        float[] row = {0, 8, 16, 24, 32, 40, 48, 56};
        GrayImage a = new GrayImage(1, 8, row);
        GrayImage b = Resample.resize(a, 1, 4);
        // output 1 centres at input 3.0: pixels 1..4 with weights 1/8, 3/8, 3/8, 1/8
        assertEquals((8 + 3 * 16 + 3 * 24 + 32) / 8f, b.get(0, 1), 1e-4f);
        // output 0 at the edge: pixel -1 is outside, weights renormalised over 0..2
        assertEquals((3 * 0 + 3 * 8 + 16) / 7f, b.get(0, 0), 1e-4f);
    }

    @Test
    void upscalingAConstantStaysConstantAndARampStaysLinearInside() {
        GrayImage flat = new GrayImage(3, 3, new float[] {.5f, .5f, .5f, .5f, .5f, .5f, .5f, .5f, .5f});
        for (float v : Resample.resize(flat, 7, 10).pixels()) {
            assertEquals(0.5f, v, 1e-6f);
        }
        GrayImage line = new GrayImage(1, 4, new float[] {0, 1, 2, 3});
        GrayImage up = Resample.resize(line, 1, 8);
        // output 3 centre at input 1.75 (pixel coordinates): between pixels 1 and 2 at 0.75 / 0.25 ... of centres
        assertEquals(1.25f, up.get(0, 3), 1e-5f);
    }

    @Test
    void nearestLabelsKeepValues() {
        LabelImage l = new LabelImage(2, 2, new byte[] {0, 1, 2, (byte) 255});
        LabelImage u = Resample.resizeNearest(l, 4, 4);
        assertArrayEquals(new byte[] {0, 0, 1, 1, 0, 0, 1, 1, 2, 2, (byte) 255, (byte) 255, 2, 2, (byte) 255, (byte) 255}, u.labels());
    }

    @Test
    void blurKeepsFlatRegionsAndSpreadsAPointBySigma() {
        int n = 41;
        float[] p = new float[n * n];
        p[20 * n + 20] = 1;
        GrayImage b = GaussianBlur.apply(new GrayImage(n, n, p), 2.0);
        double sum = 0, var = 0;
        for (int x = 0; x < n; x++) {
            sum += b.get(20, x);
        }
        for (int x = 0; x < n; x++) {
            var += b.get(20, x) / sum * (x - 20) * (x - 20);
        }
        // sampled Gaussian cut at 3 sigma: its variance is sigma^2 within ~1 %
        assertEquals(4.0, var, 0.1);
        float[] flat = new float[25];
        java.util.Arrays.fill(flat, 0.3f);
        for (float v : GaussianBlur.apply(new GrayImage(5, 5, flat), 1.5).pixels()) {
            assertEquals(0.3f, v, 1e-6f);
        }
        assertEquals(1, GaussianBlur.reflect(-1, 5));
        assertEquals(3, GaussianBlur.reflect(5, 5));
        assertEquals(0, GaussianBlur.reflect(7, 1));
    }
}
