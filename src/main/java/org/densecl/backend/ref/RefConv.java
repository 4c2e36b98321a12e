package org.densecl.backend.ref;

import org.densecl.backend.Check;
import org.densecl.backend.ConvGeometry;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * The reference 2-D convolution (PyTorch's cross-correlation) on NHWC activations and KRSC filters,
 * written as direct loops: no im2col, no tiling. cuDNN names: input (N, H, W, C), filter (K, R, S, C),
 * output (N, P, Q, K). Output pixel (p, q) reads input row h = p*strideH - padH + r*dilationH and column
 * w = q*strideW - padW + s*dilationW; positions outside the input are the zero padding.
 *
 * <p>Both backward passes are GATHERS with one double accumulator per output element, added once to
 * the gradient, so the summation order (and the F32 rounding) does not depend on a scatter order.
 */
final class RefConv {
    private RefConv() {}

    /** y = conv(x, w) (+ bias). x (N, H, W, C), w (K, R, S, C), bias (K) or null, y (N, P, Q, K). */
    static void forward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        String op = "conv2dForward";
        checkTensor(op, "x", x, g.xShape(), g);
        checkTensor(op, "w", w, g.wShape(), g);
        checkTensor(op, "y", y, g.yShape(), g);
        if (bias != null) {
            checkTensor(op, "bias", bias, Shape.of(g.k()), g);
        }
        int pOut = g.p(), qOut = g.q();
        for (int n = 0; n < g.n(); n++) {
            for (int p = 0; p < pOut; p++) {
                for (int q = 0; q < qOut; q++) {
                    for (int k = 0; k < g.k(); k++) {
                        double acc = bias != null ? bias.get(k) : 0;
                        for (int r = 0; r < g.r(); r++) {
                            int h = p * g.strideH() - g.padH() + r * g.dilationH();
                            if (h < 0 || h >= g.h()) {
                                continue; // zero padding
                            }
                            for (int s = 0; s < g.s(); s++) {
                                int wc = q * g.strideW() - g.padW() + s * g.dilationW();
                                if (wc < 0 || wc >= g.w()) {
                                    continue;
                                }
                                long xBase = (((long) n * g.h() + h) * g.w() + wc) * g.c();
                                long wBase = (((long) k * g.r() + r) * g.s() + s) * g.c();
                                for (int c = 0; c < g.c(); c++) {
                                    acc += x.get(xBase + c) * w.get(wBase + c);
                                }
                            }
                        }
                        y.set((((long) n * pOut + p) * qOut + q) * g.k() + k, acc);
                    }
                }
            }
        }
    }

    /**
     * dx += d conv / d x. dy (N, P, Q, K), w (K, R, S, C), dx (N, H, W, C). For every input pixel h we
     * find the (p, r) pairs with p*strideH - padH + r*dilationH == h, i.e. p = (h + padH - r*dilationH)
     * / strideH when that division is exact and p lands inside [0, P).
     */
    static void backwardData(ConvGeometry g, Tensor dy, Tensor w, Tensor dx) {
        String op = "conv2dBackwardData";
        checkTensor(op, "dy", dy, g.yShape(), g);
        checkTensor(op, "w", w, g.wShape(), g);
        checkTensor(op, "dx", dx, g.xShape(), g);
        int pOut = g.p(), qOut = g.q();
        for (int n = 0; n < g.n(); n++) {
            for (int h = 0; h < g.h(); h++) {
                for (int wc = 0; wc < g.w(); wc++) {
                    for (int c = 0; c < g.c(); c++) {
                        double acc = 0;
                        for (int r = 0; r < g.r(); r++) {
                            int p = outputIndex(h + g.padH() - r * g.dilationH(), g.strideH(), pOut);
                            if (p < 0) {
                                continue;
                            }
                            for (int s = 0; s < g.s(); s++) {
                                int q = outputIndex(wc + g.padW() - s * g.dilationW(), g.strideW(), qOut);
                                if (q < 0) {
                                    continue;
                                }
                                long dyBase = (((long) n * pOut + p) * qOut + q) * g.k();
                                for (int k = 0; k < g.k(); k++) {
                                    long wi = (((long) k * g.r() + r) * g.s() + s) * g.c() + c;
                                    acc += dy.get(dyBase + k) * w.get(wi);
                                }
                            }
                        }
                        long xi = (((long) n * g.h() + h) * g.w() + wc) * g.c() + c;
                        dx.set(xi, dx.get(xi) + acc);
                    }
                }
            }
        }
    }

    /**
     * dw += d conv / d w, db += sum of dy over (N, P, Q) when db is not null.
     * x (N, H, W, C), dy (N, P, Q, K), dw (K, R, S, C), db (K) or null.
     */
    static void backwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor db) {
        String op = "conv2dBackwardFilter";
        checkTensor(op, "x", x, g.xShape(), g);
        checkTensor(op, "dy", dy, g.yShape(), g);
        checkTensor(op, "dw", dw, g.wShape(), g);
        if (db != null) {
            checkTensor(op, "db", db, Shape.of(g.k()), g);
        }
        int pOut = g.p(), qOut = g.q();
        for (int k = 0; k < g.k(); k++) {
            for (int r = 0; r < g.r(); r++) {
                for (int s = 0; s < g.s(); s++) {
                    for (int c = 0; c < g.c(); c++) {
                        double acc = 0;
                        for (int n = 0; n < g.n(); n++) {
                            for (int p = 0; p < pOut; p++) {
                                int h = p * g.strideH() - g.padH() + r * g.dilationH();
                                if (h < 0 || h >= g.h()) {
                                    continue;
                                }
                                for (int q = 0; q < qOut; q++) {
                                    int wc = q * g.strideW() - g.padW() + s * g.dilationW();
                                    if (wc < 0 || wc >= g.w()) {
                                        continue;
                                    }
                                    acc += dy.get((((long) n * pOut + p) * qOut + q) * g.k() + k)
                                            * x.get((((long) n * g.h() + h) * g.w() + wc) * g.c() + c);
                                }
                            }
                        }
                        long wi = (((long) k * g.r() + r) * g.s() + s) * g.c() + c;
                        dw.set(wi, dw.get(wi) + acc);
                    }
                }
            }
        }
        if (db != null) {
            for (int k = 0; k < g.k(); k++) {
                double acc = 0;
                for (long m = 0; m < (long) g.n() * pOut * qOut; m++) {
                    acc += dy.get(m * g.k() + k);
                }
                db.set(k, db.get(k) + acc);
            }
        }
    }

    /** The output index o with o*stride == numerator and 0 <= o < size, or -1 when there is none. */
    private static int outputIndex(int numerator, int stride, int size) {
        if (numerator < 0 || numerator % stride != 0) {
            return -1;
        }
        int o = numerator / stride;
        return o < size ? o : -1;
    }

    private static void checkTensor(String op, String arg, Tensor t, Shape want, ConvGeometry g) {
        RefArgs.floats(op, arg, t);
        if (!t.shape().equals(want)) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + t.shape() + " but " + want
                    + " is required for " + g);
        }
    }
}
