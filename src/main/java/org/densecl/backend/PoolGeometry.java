package org.densecl.backend;

import org.densecl.tensor.Shape;

/**
 * Sizes of a max pool over NHWC input (N, H, W, C) with an R x S window, output (N, P, Q, C).
 * Padding counts as minus infinity, output size rounds down (PyTorch's ceil_mode=False).
 */
public record PoolGeometry(int n, int h, int w, int c, int r, int s, int stride, int pad) {

    public PoolGeometry {
        if (n <= 0 || h <= 0 || w <= 0 || c <= 0 || r <= 0 || s <= 0 || stride <= 0 || pad < 0
                || 2 * pad > Math.min(r, s) || h + 2 * pad < r || w + 2 * pad < s) {
            throw new IllegalArgumentException("maxPool: invalid geometry: input (N,H,W,C)=(" + n + ", " + h + ", "
                    + w + ", " + c + "), window " + r + "x" + s + ", stride " + stride + ", pad " + pad
                    + " (PyTorch requires pad <= window/2)");
        }
    }

    /** ResNet's stem pool: 3x3, stride 2, pad 1. */
    public static PoolGeometry resnetStem(int n, int h, int w, int c) {
        return new PoolGeometry(n, h, w, c, 3, 3, 2, 1);
    }

    public int p() {
        return (h + 2 * pad - r) / stride + 1;
    }

    public int q() {
        return (w + 2 * pad - s) / stride + 1;
    }

    public Shape xShape() {
        return Shape.of(n, h, w, c);
    }

    public Shape yShape() {
        return Shape.of(n, p(), q(), c);
    }
}
