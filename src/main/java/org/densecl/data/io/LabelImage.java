package org.densecl.data.io;

/**
 * A segmentation label map, row-major (height, width): class indices 0..C-1, or {@link #IGNORE}
 * (255, mmsegmentation's ignore_index) for pixels that no loss or metric should count.
 */
public record LabelImage(int height, int width, byte[] labels) {
    public static final int IGNORE = 255;

    public LabelImage {
        if (height < 1 || width < 1 || labels.length != height * width) {
            throw new IllegalArgumentException("LabelImage: " + height + "x" + width + " with " + labels.length + " labels");
        }
    }

    /** The class at (z, x), 0..255. */
    public int get(int z, int x) {
        return labels[z * width + x] & 0xff;
    }
}
