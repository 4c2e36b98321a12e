package org.densecl.data.sim;

/**
 * A contact sheet of simulated images for docs: {@code rows x pairs} tiles, each tile the B-mode
 * image and, to its right, the same image with the recess mask tinted orange and outlined in
 * yellow. Tiles are separated by a 4-pixel dark border. Image k of the sheet is (seed, k).
 */
public final class SimGrid {
    private static final int GAP = 4;
    private static final int BORDER_RGB = 0x202020;

    /** Packed RGB pixels of the sheet and its size. */
    public record Sheet(int[] rgb, int height, int width) {}

    private SimGrid() {}

    public static Sheet render(KneeSimulator sim, long seed, int rows, int pairs, int size) {
        if (rows < 1 || pairs < 1) {
            throw new IllegalArgumentException("grid needs at least one row and one column, got " + rows + "x" + pairs);
        }
        int tileW = 2 * size + GAP, tileH = size;
        int width = pairs * tileW + (pairs + 1) * GAP, height = rows * tileH + (rows + 1) * GAP;
        int[] rgb = new int[height * width];
        java.util.Arrays.fill(rgb, BORDER_RGB);
        SimImage img = new SimImage(size, size, false);
        byte[] mask = new byte[size * size];
        for (int r = 0; r < rows; r++) {
            for (int p = 0; p < pairs; p++) {
                sim.generate(seed, (long) r * pairs + p, img);
                img.mask(mask);
                int y0 = GAP + r * (tileH + GAP), x0 = GAP + p * (tileW + GAP);
                for (int z = 0; z < size; z++) {
                    for (int x = 0; x < size; x++) {
                        int g = img.gray[z * size + x] & 0xff;
                        int row = (y0 + z) * width;
                        rgb[row + x0 + x] = g << 16 | g << 8 | g;
                        rgb[row + x0 + size + GAP + x] = overlay(g, mask, z, x, size);
                    }
                }
            }
        }
        return new Sheet(rgb, height, width);
    }

    /** Gray with the mask tinted orange; mask pixels with a background 4-neighbour drawn yellow. */
    private static int overlay(int g, byte[] mask, int z, int x, int size) {
        if (mask[z * size + x] == 0) {
            return g << 16 | g << 8 | g;
        }
        boolean edge = z == 0 || x == 0 || z == size - 1 || x == size - 1
                || mask[(z - 1) * size + x] == 0 || mask[(z + 1) * size + x] == 0
                || mask[z * size + x - 1] == 0 || mask[z * size + x + 1] == 0;
        if (edge) {
            return 0xFFE000;
        }
        int r = (int) (0.55 * g + 0.45 * 255), gg = (int) (0.55 * g + 0.45 * 120), b = (int) (0.55 * g);
        return r << 16 | gg << 8 | b;
    }
}
