package org.densecl.demo;

import java.util.SplittableRandom;

/**
 * A toy two-class image set for the engine demo: a filled disk (class 0) or a ring (class 1) of random
 * size and position on a noisy background, grayscale, values roughly in [-1, 1]. The texture is
 * multiplicative noise, so the classes differ only in shape: a network must use spatial structure.
 * Image i of seed s is always the same.
 */
public final class ShapesDataset {
    private final int size;
    private final long seed;

    public ShapesDataset(int size, long seed) {
        this.size = size;
        this.seed = seed;
    }

    public int size() {
        return size;
    }

    /** Class of image {@code index}: 0 disk, 1 ring. */
    public int label(long index) {
        return (int) (Math.floorMod(new SplittableRandom(seed ^ (index * 0x9E3779B97F4A7C15L)).nextLong(), 2L));
    }

    /** Writes image {@code index} as size*size floats at {@code dst[offset..]} (row-major, one channel). */
    public void image(long index, float[] dst, int offset) {
        SplittableRandom r = new SplittableRandom(seed ^ (index * 0x9E3779B97F4A7C15L));
        boolean ring = Math.floorMod(r.nextLong(), 2L) == 1;
        double radius = size * (0.18 + 0.14 * r.nextDouble());
        double cy = radius + (size - 2 * radius) * r.nextDouble();
        double cx = radius + (size - 2 * radius) * r.nextDouble();
        double thickness = radius * 0.45;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                double d = Math.hypot(y + 0.5 - cy, x + 0.5 - cx);
                boolean inside = ring ? (d <= radius && d >= radius - thickness) : d <= radius;
                double texture = 0.6 + 0.8 * r.nextDouble();
                double v = (inside ? 0.8 : 0.2) * texture;
                dst[offset + y * size + x] = (float) (2 * v - 1);
            }
        }
    }
}
