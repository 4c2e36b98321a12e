package org.densecl.backend.ref;

import org.densecl.backend.Check;
import org.densecl.tensor.Tensor;

/**
 * Reference bilinear resize, the same arithmetic as PyTorch's F.interpolate(mode='bilinear') on CPU
 * (aten/src/ATen/native/UpSample.h: area_pixel_compute_source_index, compute_source_index_and_lambda),
 * done in double. Per output row (and likewise per column):
 * <pre>
 *   alignCorners: src = dst * (in - 1) / (out - 1)        (0 when out == 1)
 *   otherwise:    src = max((dst + 0.5) * in / out - 0.5, 0)
 *   i0 = min(floor(src), in - 1), i1 = i0 + (i0 < in - 1 ? 1 : 0), l1 = clamp(src - i0, 0, 1), l0 = 1 - l1
 * </pre>
 * and equal sizes are a copy. y = l0h * (l0w * x[i0h, i0w] + l1w * x[i0h, i1w]) + l1h * (...i1h...).
 */
final class RefResize {
    private RefResize() {}

    /** The two source taps and their weights for one output coordinate. */
    private record Taps(int i0, int i1, double l0, double l1) {}

    /** x (N, H, W, C), y (N, OH, OW, C). */
    static void forward(Tensor x, Tensor y, boolean alignCorners) {
        String op = "resizeBilinearForward";
        check(op, "x", x, "y", y);
        int n = x.shape().dim(0), h = x.shape().dim(1), w = x.shape().dim(2), c = x.shape().dim(3);
        int oh = y.shape().dim(1), ow = y.shape().dim(2);
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < oh; i++) {
                Taps th = taps(i, h, oh, alignCorners);
                for (int j = 0; j < ow; j++) {
                    Taps tw = taps(j, w, ow, alignCorners);
                    for (int k = 0; k < c; k++) {
                        double top = tw.l0() * x.get(index(b, th.i0(), tw.i0(), k, h, w, c))
                                + tw.l1() * x.get(index(b, th.i0(), tw.i1(), k, h, w, c));
                        double bottom = tw.l0() * x.get(index(b, th.i1(), tw.i0(), k, h, w, c))
                                + tw.l1() * x.get(index(b, th.i1(), tw.i1(), k, h, w, c));
                        y.set(index(b, i, j, k, oh, ow, c), th.l0() * top + th.l1() * bottom);
                    }
                }
            }
        }
    }

    /**
     * dx += the adjoint: each dy element scatters its four weighted shares into dx (the taps can
     * coincide at the border, where both shares land on the same element). dy (N, OH, OW, C), dx (N, H, W, C).
     */
    static void backward(Tensor dy, Tensor dx, boolean alignCorners) {
        String op = "resizeBilinearBackward";
        check(op, "dx", dx, "dy", dy);
        int n = dx.shape().dim(0), h = dx.shape().dim(1), w = dx.shape().dim(2), c = dx.shape().dim(3);
        int oh = dy.shape().dim(1), ow = dy.shape().dim(2);
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < oh; i++) {
                Taps th = taps(i, h, oh, alignCorners);
                for (int j = 0; j < ow; j++) {
                    Taps tw = taps(j, w, ow, alignCorners);
                    for (int k = 0; k < c; k++) {
                        double g = dy.get(index(b, i, j, k, oh, ow, c));
                        addTo(dx, index(b, th.i0(), tw.i0(), k, h, w, c), th.l0() * tw.l0() * g);
                        addTo(dx, index(b, th.i0(), tw.i1(), k, h, w, c), th.l0() * tw.l1() * g);
                        addTo(dx, index(b, th.i1(), tw.i0(), k, h, w, c), th.l1() * tw.l0() * g);
                        addTo(dx, index(b, th.i1(), tw.i1(), k, h, w, c), th.l1() * tw.l1() * g);
                    }
                }
            }
        }
    }

    /** The source taps of output coordinate {@code dst} when {@code in} pixels become {@code out}. */
    private static Taps taps(int dst, int in, int out, boolean alignCorners) {
        if (in == out) {
            return new Taps(dst, dst, 1, 0); // PyTorch short-cuts equal sizes to a copy
        }
        double src;
        if (alignCorners) {
            src = out > 1 ? dst * (double) (in - 1) / (out - 1) : 0;
        } else {
            src = Math.max((dst + 0.5) * in / out - 0.5, 0); // the clamp at 0 PyTorch applies
        }
        int i0 = Math.min((int) src, in - 1);
        int i1 = i0 + (i0 < in - 1 ? 1 : 0);
        double l1 = Math.min(Math.max(src - i0, 0), 1);
        return new Taps(i0, i1, 1 - l1, l1);
    }

    private static long index(int b, int i, int j, int k, int h, int w, int c) {
        return (((long) b * h + i) * w + j) * c + k;
    }

    private static void addTo(Tensor t, long i, double v) {
        t.set(i, t.get(i) + v);
    }

    /** in (N, H, W, C) and out (N, OH, OW, C): equal N and C, positive sizes. */
    private static void check(String op, String inName, Tensor in, String outName, Tensor out) {
        RefArgs.floats(op, inName, in);
        RefArgs.floats(op, outName, out);
        Check.rank(op, inName, in, 4, "(N, H, W, C)");
        Check.rank(op, outName, out, 4, "(N, OH, OW, C)");
        Check.that(in.shape().dim(0) == out.shape().dim(0) && in.shape().dim(3) == out.shape().dim(3)
                        && out.shape().dim(1) > 0 && out.shape().dim(2) > 0 && in.shape().dim(1) > 0
                        && in.shape().dim(2) > 0, op,
                inName + " has shape " + in.shape() + " and " + outName + " " + out.shape()
                        + "; N and C must match and every spatial size must be positive");
    }
}
