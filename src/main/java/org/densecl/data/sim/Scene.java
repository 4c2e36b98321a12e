package org.densecl.data.sim;

import java.util.Arrays;

/**
 * What the B-mode renderer needs to know about the anatomy, on a grid padded by the PSF's reach so
 * that the convolution has real tissue (not zeros) beyond the image edges: a label per pixel, a
 * multiplicative amplitude texture per pixel, and the specular interfaces of each column with
 * sub-pixel depth and incidence cosine. Image pixel (z, x) is padded pixel (z + padZ, x + padX).
 * Buffers are reused between images of the same worker ({@link #reset}).
 */
final class Scene {
    /** At most this many interfaces per column (the anatomy has 10 boundaries). */
    static final int MAX_INTERFACES = 12;

    int height, width;      // image size
    int padZ, padX;         // margin on each side
    int rows, cols;         // padded grid: height + 2 padZ, width + 2 padX
    double pxMm;
    byte[] labels = new byte[0];      // (rows, cols) Tissue ordinal
    float[] texture = new float[0];   // (rows, cols) amplitude multiplier, 1 = plain tissue
    int[] ifCount = new int[0];       // (cols)
    float[] ifRow = new float[0];     // (cols, MAX_INTERFACES) depth in padded rows; row r's centre is r
    float[] ifCos = new float[0];     // (cols, MAX_INTERFACES) |cos| of the incidence angle
    byte[] ifAbove = new byte[0];     // (cols, MAX_INTERFACES) tissue above the interface
    byte[] ifBelow = new byte[0];     // (cols, MAX_INTERFACES) tissue below
    float[] boneTopRow = new float[0]; // (width) image row where femur or patella begins (may exceed height)

    void reset(int height, int width, int padZ, int padX, double pxMm) {
        this.height = height;
        this.width = width;
        this.padZ = padZ;
        this.padX = padX;
        this.rows = height + 2 * padZ;
        this.cols = width + 2 * padX;
        this.pxMm = pxMm;
        int n = rows * cols;
        if (labels.length < n) {
            labels = new byte[n];
            texture = new float[n];
        }
        if (ifCount.length < cols) {
            ifCount = new int[cols];
            ifRow = new float[cols * MAX_INTERFACES];
            ifCos = new float[cols * MAX_INTERFACES];
            ifAbove = new byte[cols * MAX_INTERFACES];
            ifBelow = new byte[cols * MAX_INTERFACES];
        }
        if (boneTopRow.length < width) {
            boneTopRow = new float[width];
        }
        Arrays.fill(texture, 0, n, 1f);
        Arrays.fill(ifCount, 0, cols, 0);
    }

    void addInterface(int col, float row, float cos, Tissue above, Tissue below) {
        int k = ifCount[col];
        if (k == MAX_INTERFACES) {
            throw new IllegalStateException("Scene: more than " + MAX_INTERFACES + " interfaces in column " + col);
        }
        int i = col * MAX_INTERFACES + k;
        ifRow[i] = row;
        ifCos[i] = cos;
        ifAbove[i] = (byte) above.ordinal();
        ifBelow[i] = (byte) below.ordinal();
        ifCount[col] = k + 1;
    }

    /** The image part of the label map, row-major (height, width), into {@code out}. */
    void cropLabels(byte[] out) {
        for (int z = 0; z < height; z++) {
            System.arraycopy(labels, (z + padZ) * cols + padX, out, z * width, width);
        }
    }
}
