package org.densecl.data.augment;

/** In-place intensity operations on [0, 1] pixels, each clamped to [0, 1] as PIL/torchvision do. */
final class Photometric {
    private Photometric() {}

    /** x * factor (torchvision adjust_brightness). */
    static void scale(float[] px, float factor) {
        for (int i = 0; i < px.length; i++) {
            px[i] = clamp(px[i] * factor);
        }
    }

    /** x + delta (mmsegmentation's brightness delta). */
    static void shift(float[] px, float delta) {
        for (int i = 0; i < px.length; i++) {
            px[i] = clamp(px[i] + delta);
        }
    }

    /** Blend with the image mean: mean + factor * (x - mean) (torchvision adjust_contrast). */
    static void contrast(float[] px, float factor) {
        double sum = 0;
        for (float v : px) {
            sum += v;
        }
        float mean = (float) (sum / px.length);
        for (int i = 0; i < px.length; i++) {
            px[i] = clamp(mean + factor * (px[i] - mean));
        }
    }

    static float clamp(float v) {
        return v < 0f ? 0f : v > 1f ? 1f : v;
    }
}
