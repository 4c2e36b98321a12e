package org.densecl.backend;

import org.densecl.tensor.Shape;

/**
 * The sizes of one 2-D convolution, with cuDNN's names: input (N, H, W, C), filter (K, R, S, C),
 * output (N, P, Q, K). Layouts are NHWC for activations and KRSC for filters. Output size follows
 * PyTorch: P = floor((H + 2*padH - dilationH*(R-1) - 1) / strideH) + 1.
 */
public record ConvGeometry(int n, int h, int w, int c, int k, int r, int s,
                           int strideH, int strideW, int padH, int padW, int dilationH, int dilationW) {

    public ConvGeometry {
        if (n <= 0 || h <= 0 || w <= 0 || c <= 0 || k <= 0 || r <= 0 || s <= 0
                || strideH <= 0 || strideW <= 0 || padH < 0 || padW < 0 || dilationH <= 0 || dilationW <= 0) {
            throw new IllegalArgumentException("conv2d: invalid geometry " + describe(n, h, w, c, k, r, s,
                    strideH, strideW, padH, padW, dilationH, dilationW));
        }
        int p = (h + 2 * padH - dilationH * (r - 1) - 1) / strideH + 1;
        int q = (w + 2 * padW - dilationW * (s - 1) - 1) / strideW + 1;
        if (h + 2 * padH < dilationH * (r - 1) + 1 || w + 2 * padW < dilationW * (s - 1) + 1 || p <= 0 || q <= 0) {
            throw new IllegalArgumentException("conv2d: the dilated kernel does not fit the padded input: "
                    + describe(n, h, w, c, k, r, s, strideH, strideW, padH, padW, dilationH, dilationW));
        }
    }

    /** Square kernel, same stride, padding and dilation in both directions. */
    public static ConvGeometry of(int n, int h, int w, int c, int k, int kernel, int stride, int pad, int dilation) {
        return new ConvGeometry(n, h, w, c, k, kernel, kernel, stride, stride, pad, pad, dilation, dilation);
    }

    /** Output height. */
    public int p() {
        return (h + 2 * padH - dilationH * (r - 1) - 1) / strideH + 1;
    }

    /** Output width. */
    public int q() {
        return (w + 2 * padW - dilationW * (s - 1) - 1) / strideW + 1;
    }

    public Shape xShape() {
        return Shape.of(n, h, w, c);
    }

    public Shape wShape() {
        return Shape.of(k, r, s, c);
    }

    public Shape yShape() {
        return Shape.of(n, p(), q(), k);
    }

    /** True for a 1x1, stride-1, unpadded convolution: then it is exactly a GEMM (NHW, C) x (C, K). */
    public boolean isPointwise() {
        return r == 1 && s == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0;
    }

    /** Multiply-adds times two: the FLOP count of the forward pass (each backward costs the same). */
    public double flops() {
        return 2.0 * n * p() * q() * k * (double) r * s * c;
    }

    @Override
    public String toString() {
        return describe(n, h, w, c, k, r, s, strideH, strideW, padH, padW, dilationH, dilationW);
    }

    private static String describe(int n, int h, int w, int c, int k, int r, int s,
                                   int sh, int sw, int ph, int pw, int dh, int dw) {
        return "x (N,H,W,C)=(" + n + ", " + h + ", " + w + ", " + c + "), w (K,R,S,C)=(" + k + ", " + r + ", "
                + s + ", " + c + "), stride " + sh + "x" + sw + ", pad " + ph + "x" + pw + ", dilation " + dh + "x" + dw;
    }
}
