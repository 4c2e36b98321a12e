package org.densecl.io;

import org.densecl.tensor.Shape;

/**
 * PyTorch's tensor layouts against ours. Conv weights are KRSC here (K output channels, R x S kernel, C
 * input channels, C fastest: what an NHWC convolution reads) and OIHW in PyTorch (O = K, I = C, H = R,
 * W = S); every other parameter (linear (out, in), BN vectors) has the same layout in both.
 */
final class TorchLayout {
    private TorchLayout() {}

    /** The PyTorch shape of a tensor stored with {@code ours}: rank 4 is a conv weight, the rest is equal. */
    static Shape torchShape(Shape ours) {
        if (ours.rank() != 4) {
            return ours;
        }
        return Shape.of(ours.dim(0), ours.dim(3), ours.dim(1), ours.dim(2));
    }

    /** KRSC (K, R, S, C) to OIHW (K, C, R, S). */
    static double[] krscToOihw(double[] src, Shape krsc) {
        int k = krsc.dim(0), r = krsc.dim(1), s = krsc.dim(2), c = krsc.dim(3);
        double[] dst = new double[src.length];
        for (int o = 0; o < k; o++) {
            for (int y = 0; y < r; y++) {
                for (int x = 0; x < s; x++) {
                    for (int i = 0; i < c; i++) {
                        dst[((o * c + i) * r + y) * s + x] = src[((o * r + y) * s + x) * c + i];
                    }
                }
            }
        }
        return dst;
    }

    /** OIHW (K, C, R, S) to KRSC (K, R, S, C); {@code krsc} is the destination shape. */
    static double[] oihwToKrsc(double[] src, Shape krsc) {
        int k = krsc.dim(0), r = krsc.dim(1), s = krsc.dim(2), c = krsc.dim(3);
        double[] dst = new double[src.length];
        for (int o = 0; o < k; o++) {
            for (int y = 0; y < r; y++) {
                for (int x = 0; x < s; x++) {
                    for (int i = 0; i < c; i++) {
                        dst[((o * r + y) * s + x) * c + i] = src[((o * c + i) * r + y) * s + x];
                    }
                }
            }
        }
        return dst;
    }

    /**
     * An OIHW stem with I input channels folded onto one: w1[o][0][h][w] = sum_i w[o][i][h][w]. A
     * grayscale image g fed to an RGB stem as (g, g, g) gives exactly this filter's response, which is why
     * summing (not averaging) keeps a pretrained stem's activations, and so its BN statistics, unchanged.
     */
    static double[] sumInputChannels(double[] oihw, Shape torchShape) {
        int o = torchShape.dim(0), in = torchShape.dim(1), hw = torchShape.dim(2) * torchShape.dim(3);
        double[] dst = new double[o * hw];
        for (int a = 0; a < o; a++) {
            for (int i = 0; i < in; i++) {
                for (int j = 0; j < hw; j++) {
                    dst[a * hw + j] += oihw[(a * in + i) * hw + j];
                }
            }
        }
        return dst;
    }
}
