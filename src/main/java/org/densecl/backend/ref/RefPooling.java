package org.densecl.backend.ref;

import org.densecl.backend.Check;
import org.densecl.backend.PoolGeometry;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Reference pooling on NHWC tensors: max pool (padding is -infinity, the first maximum in row-major
 * window order wins, as PyTorch), global average pool, and PyTorch's adaptive average pool, whose output
 * cell i covers input rows [floor(i*H/P), ceil((i+1)*H/P)) (bins overlap when P does not divide H).
 */
final class RefPooling {
    private RefPooling() {}

    /** x (N, H, W, C), y (N, P, Q, C). */
    static void maxForward(PoolGeometry g, Tensor x, Tensor y) {
        String op = "maxPoolForward";
        checkPool(op, g, x, y);
        forEachWindow(g, (outIndex, inIndex) -> y.set(outIndex, x.get(inIndex)), x);
    }

    /**
     * dx += dy routed to the argmax of each window, recomputed from x. x, dx (N, H, W, C); y, dy (N, P, Q, C).
     * A scatter: overlapping windows (stride < window) add into the same dx element one after another.
     */
    static void maxBackward(PoolGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        String op = "maxPoolBackward";
        checkPool(op, g, x, y);
        RefArgs.floats(op, "dy", dy);
        RefArgs.floats(op, "dx", dx);
        Check.shape(op, "dy", dy, g.yShape());
        Check.shape(op, "dx", dx, g.xShape());
        forEachWindow(g, (outIndex, inIndex) -> dx.set(inIndex, dx.get(inIndex) + dy.get(outIndex)), x);
    }

    /** Receives (flat output index, flat input index of that window's maximum). */
    private interface WindowArgmax {
        void accept(long outIndex, long inIndex);
    }

    /**
     * For every output element, finds the flat index of its window's maximum: padding never wins, the
     * first of equal maxima wins, and NaN wins (PyTorch's `val > max || isnan(val)`, so it propagates).
     * Every window holds a real element because PoolGeometry enforces pad <= window / 2.
     */
    private static void forEachWindow(PoolGeometry g, WindowArgmax sink, Tensor x) {
        int pOut = g.p(), qOut = g.q();
        for (int n = 0; n < g.n(); n++) {
            for (int p = 0; p < pOut; p++) {
                for (int q = 0; q < qOut; q++) {
                    for (int c = 0; c < g.c(); c++) {
                        long best = -1;
                        double bestValue = Double.NEGATIVE_INFINITY;
                        for (int r = 0; r < g.r(); r++) {
                            int h = p * g.stride() - g.pad() + r;
                            if (h < 0 || h >= g.h()) {
                                continue;
                            }
                            for (int s = 0; s < g.s(); s++) {
                                int w = q * g.stride() - g.pad() + s;
                                if (w < 0 || w >= g.w()) {
                                    continue;
                                }
                                long i = (((long) n * g.h() + h) * g.w() + w) * g.c() + c;
                                double v = x.get(i);
                                if (best < 0 || v > bestValue || Double.isNaN(v)) {
                                    best = i;
                                    bestValue = v;
                                }
                            }
                        }
                        sink.accept((((long) n * pOut + p) * qOut + q) * g.c() + c, best);
                    }
                }
            }
        }
    }

    /** y[n, c] = mean over (h, w) of x[n, h, w, c]. x (N, H, W, C), y (N, C). */
    static void globalAvgForward(Tensor x, Tensor y) {
        String op = "globalAvgPoolForward";
        RefArgs.floats(op, "x", x);
        RefArgs.floats(op, "y", y);
        Check.rank(op, "x", x, 4, "(N, H, W, C)");
        int n = x.shape().dim(0), c = x.shape().dim(3);
        long pixels = (long) x.shape().dim(1) * x.shape().dim(2);
        Check.shape(op, "y", y, Shape.of(n, c));
        for (int b = 0; b < n; b++) {
            for (int j = 0; j < c; j++) {
                double acc = 0;
                for (long hw = 0; hw < pixels; hw++) {
                    acc += x.get(((long) b * pixels + hw) * c + j);
                }
                y.set((long) b * c + j, acc / pixels);
            }
        }
    }

    /** dx[n, h, w, c] += dy[n, c] / (H * W). dy (N, C), dx (N, H, W, C). */
    static void globalAvgBackward(Tensor dy, Tensor dx) {
        String op = "globalAvgPoolBackward";
        RefArgs.floats(op, "dy", dy);
        RefArgs.floats(op, "dx", dx);
        Check.rank(op, "dx", dx, 4, "(N, H, W, C)");
        int n = dx.shape().dim(0), c = dx.shape().dim(3);
        long pixels = (long) dx.shape().dim(1) * dx.shape().dim(2);
        Check.shape(op, "dy", dy, Shape.of(n, c));
        for (int b = 0; b < n; b++) {
            for (long hw = 0; hw < pixels; hw++) {
                for (int j = 0; j < c; j++) {
                    long i = ((long) b * pixels + hw) * c + j;
                    dx.set(i, dx.get(i) + dy.get((long) b * c + j) / pixels);
                }
            }
        }
    }

    /** x (N, H, W, C), y (N, P, Q, C); P and Q come from y's shape. */
    static void adaptiveAvgForward(Tensor x, Tensor y) {
        String op = "adaptiveAvgPoolForward";
        checkAdaptive(op, "x", x, "y", y);
        int n = x.shape().dim(0), h = x.shape().dim(1), w = x.shape().dim(2), c = x.shape().dim(3);
        int pOut = y.shape().dim(1), qOut = y.shape().dim(2);
        for (int b = 0; b < n; b++) {
            for (int p = 0; p < pOut; p++) {
                int h0 = binStart(p, h, pOut), h1 = binEnd(p, h, pOut);
                for (int q = 0; q < qOut; q++) {
                    int w0 = binStart(q, w, qOut), w1 = binEnd(q, w, qOut);
                    for (int j = 0; j < c; j++) {
                        double acc = 0;
                        for (int hh = h0; hh < h1; hh++) {
                            for (int ww = w0; ww < w1; ww++) {
                                acc += x.get((((long) b * h + hh) * w + ww) * c + j);
                            }
                        }
                        y.set((((long) b * pOut + p) * qOut + q) * c + j, acc / ((h1 - h0) * (w1 - w0)));
                    }
                }
            }
        }
    }

    /**
     * dx += the adjoint of the adaptive average: each input pixel gathers dy / binSize from every
     * output bin that contains it (one or two bins per direction). dy (N, P, Q, C), dx (N, H, W, C).
     */
    static void adaptiveAvgBackward(Tensor dy, Tensor dx) {
        String op = "adaptiveAvgPoolBackward";
        checkAdaptive(op, "dx", dx, "dy", dy);
        int n = dx.shape().dim(0), h = dx.shape().dim(1), w = dx.shape().dim(2), c = dx.shape().dim(3);
        int pOut = dy.shape().dim(1), qOut = dy.shape().dim(2);
        for (int b = 0; b < n; b++) {
            for (int hh = 0; hh < h; hh++) {
                for (int ww = 0; ww < w; ww++) {
                    for (int j = 0; j < c; j++) {
                        double acc = 0;
                        for (int p = 0; p < pOut; p++) {
                            int h0 = binStart(p, h, pOut), h1 = binEnd(p, h, pOut);
                            if (hh < h0 || hh >= h1) {
                                continue;
                            }
                            for (int q = 0; q < qOut; q++) {
                                int w0 = binStart(q, w, qOut), w1 = binEnd(q, w, qOut);
                                if (ww < w0 || ww >= w1) {
                                    continue;
                                }
                                acc += dy.get((((long) b * pOut + p) * qOut + q) * c + j)
                                        / ((h1 - h0) * (w1 - w0));
                            }
                        }
                        long i = (((long) b * h + hh) * w + ww) * c + j;
                        dx.set(i, dx.get(i) + acc);
                    }
                }
            }
        }
    }

    /** floor(i * in / out): the first input index of output bin i. */
    static int binStart(int i, int in, int out) {
        return (int) (((long) i * in) / out);
    }

    /** ceil((i + 1) * in / out): one past the last input index of output bin i. */
    static int binEnd(int i, int in, int out) {
        return (int) (((long) (i + 1) * in + out - 1) / out);
    }

    private static void checkPool(String op, PoolGeometry g, Tensor x, Tensor y) {
        RefArgs.floats(op, "x", x);
        RefArgs.floats(op, "y", y);
        if (!x.shape().equals(g.xShape()) || !y.shape().equals(g.yShape())) {
            throw new IllegalArgumentException(op + ": x has shape " + x.shape() + " and y " + y.shape()
                    + " but the geometry (window " + g.r() + "x" + g.s() + ", stride " + g.stride() + ", pad "
                    + g.pad() + ") requires x " + g.xShape() + " and y " + g.yShape());
        }
    }

    /** big (N, H, W, C) and small (N, P, Q, C) with equal N and C and P, Q >= 1. */
    private static void checkAdaptive(String op, String bigName, Tensor big, String smallName, Tensor small) {
        RefArgs.floats(op, bigName, big);
        RefArgs.floats(op, smallName, small);
        Check.rank(op, bigName, big, 4, "(N, H, W, C)");
        Check.rank(op, smallName, small, 4, "(N, P, Q, C)");
        Check.that(big.shape().dim(0) == small.shape().dim(0) && big.shape().dim(3) == small.shape().dim(3)
                && small.shape().dim(1) > 0 && small.shape().dim(2) > 0, op, bigName + " has shape " + big.shape()
                + " and " + smallName + " " + small.shape() + "; N and C must match and P, Q must be positive");
    }
}
