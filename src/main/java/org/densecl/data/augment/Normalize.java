package org.densecl.data.augment;

import org.densecl.data.io.GrayImage;

/** The last step of both pipelines: (x - mean) / std, optional horizontal flip, gray to C channels. */
public final class Normalize {
    private Normalize() {}

    /** Writes {@code img} as (H, W, channels) at out[offset...], mirrored left-right when flip. */
    public static void write(GrayImage img, boolean flip, float mean, float std, int channels, float[] out, int offset) {
        int h = img.height(), w = img.width();
        float inv = 1f / std;
        float[] px = img.pixels();
        for (int z = 0; z < h; z++) {
            for (int x = 0; x < w; x++) {
                float v = (px[z * w + (flip ? w - 1 - x : x)] - mean) * inv;
                int o = offset + (z * w + x) * channels;
                for (int c = 0; c < channels; c++) {
                    out[o + c] = v;
                }
            }
        }
    }
}
