package org.densecl.data.io;

/**
 * A decoded single-channel image, row-major (height, width), intensities in [0, 1] (8-bit values
 * divided by 255, 16-bit by 65535; colour converted to luma). Ultrasound is gray: colour images
 * (screenshots, RGB exports) are reduced to one channel when decoded.
 */
public record GrayImage(int height, int width, float[] pixels) {
    public GrayImage {
        if (height < 1 || width < 1 || pixels.length != height * width) {
            throw new IllegalArgumentException("GrayImage: " + height + "x" + width + " with " + pixels.length + " pixels");
        }
    }

    public float get(int z, int x) {
        return pixels[z * width + x];
    }
}
