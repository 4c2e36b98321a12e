package org.densecl.backend.ref;

import org.densecl.backend.Check;
import org.densecl.backend.DropoutMask;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Reference elementwise ops: fill/scale/axpy/add, bias add and its backward, ReLU, channel dropout and
 * channel-block copies.
 * One loop each over the flat element index; per-channel ops see a tensor whose last dimension is C
 * as (M, C). Arithmetic is in double, rounded once on store.
 */
final class RefElementwise {
    private RefElementwise() {}

    /** x = value. */
    static void fill(Tensor x, double value) {
        RefArgs.floats("fill", "x", x);
        for (long i = 0; i < x.numel(); i++) {
            x.set(i, value);
        }
    }

    /** x = alpha * x. */
    static void scale(Tensor x, double alpha) {
        RefArgs.floats("scale", "x", x);
        for (long i = 0; i < x.numel(); i++) {
            x.set(i, alpha * x.get(i));
        }
    }

    /** y += alpha * x; x and y have the same element count (shapes may differ). */
    static void axpy(double alpha, Tensor x, Tensor y) {
        RefArgs.floats("axpy", "x", x);
        RefArgs.floats("axpy", "y", y);
        Check.numel("axpy", "y", y, x.numel());
        for (long i = 0; i < x.numel(); i++) {
            y.set(i, y.get(i) + alpha * x.get(i));
        }
    }

    /** y = a + b, all three of one shape; y may alias a or b (each element is read before it is written). */
    static void add(Tensor a, Tensor b, Tensor y) {
        RefArgs.floats("add", "a", a);
        RefArgs.floats("add", "b", b);
        RefArgs.floats("add", "y", y);
        Check.same("add", "b", b, "a", a);
        Check.same("add", "y", y, "a", a);
        for (long i = 0; i < a.numel(); i++) {
            y.set(i, a.get(i) + b.get(i));
        }
    }

    /** y[m, c] += b[c]. y (M, C) (any shape with last dimension C), b (C). */
    static void biasAdd(Tensor y, Tensor b) {
        String op = "biasAdd";
        RefArgs.floats(op, "y", y);
        RefArgs.floats(op, "b", b);
        Check.rank(op, "b", b, 1, "(C)");
        int c = b.shape().dim(0);
        long rows = RefArgs.rowsOf(op, "y", y, c);
        for (long m = 0; m < rows; m++) {
            for (int j = 0; j < c; j++) {
                long i = m * c + j;
                y.set(i, y.get(i) + b.get(j));
            }
        }
    }

    /** db[c] += sum over m of dy[m, c]. dy (M, C), db (C). */
    static void biasBackward(Tensor dy, Tensor db) {
        String op = "biasBackward";
        RefArgs.floats(op, "dy", dy);
        RefArgs.floats(op, "db", db);
        Check.rank(op, "db", db, 1, "(C)");
        int c = db.shape().dim(0);
        long rows = RefArgs.rowsOf(op, "dy", dy, c);
        for (int j = 0; j < c; j++) {
            double acc = 0;
            for (long m = 0; m < rows; m++) {
                acc += dy.get(m * c + j);
            }
            db.set(j, db.get(j) + acc);
        }
    }

    /** y = max(x, 0); y may alias x. NaN passes through (v < 0 is false for it), as in PyTorch. */
    /** y = max(a + b, 0), the sum rounded to the tensors' type first (as add then reluForward). */
    static void addRelu(Tensor a, Tensor b, Tensor y) {
        RefArgs.floats("addRelu", "a", a);
        RefArgs.floats("addRelu", "b", b);
        RefArgs.floats("addRelu", "y", y);
        Check.same("addRelu", "b", b, "a", a);
        Check.same("addRelu", "y", y, "a", a);
        for (long i = 0; i < a.numel(); i++) {
            y.set(i, a.get(i) + b.get(i));
            double v = y.get(i);
            y.set(i, v < 0 ? 0 : v);
        }
    }

    static void reluForward(Tensor x, Tensor y) {
        RefArgs.floats("reluForward", "x", x);
        RefArgs.floats("reluForward", "y", y);
        Check.same("reluForward", "y", y, "x", x);
        for (long i = 0; i < x.numel(); i++) {
            double v = x.get(i);
            y.set(i, v < 0 ? 0 : v);
        }
    }

    /** dx += dy where y > 0. y, dy, dx of one shape. */
    static void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        String op = "reluBackward";
        RefArgs.floats(op, "y", y);
        RefArgs.floats(op, "dy", dy);
        RefArgs.floats(op, "dx", dx);
        Check.same(op, "dy", dy, "y", y);
        Check.same(op, "dx", dx, "y", y);
        for (long i = 0; i < y.numel(); i++) {
            if (y.get(i) > 0) {
                dx.set(i, dx.get(i) + dy.get(i));
            }
        }
    }

    /**
     * Dropout2d: mask[n, c] = DropoutMask.scale(seed, n, c, p) (0 or 1/(1-p)), y = x * mask.
     * x, y (N, H, W, C), mask (N, C).
     */
    static void dropout2dForward(Tensor x, float p, long seed, Tensor mask, Tensor y) {
        String op = "dropout2dForward";
        RefArgs.floats(op, "x", x);
        RefArgs.floats(op, "mask", mask);
        RefArgs.floats(op, "y", y);
        Check.rank(op, "x", x, 4, "(N, H, W, C)");
        Check.that(p >= 0f && p <= 1f, op, "drop probability p=" + p + " is outside [0, 1]");
        int n = x.shape().dim(0), c = x.shape().dim(3);
        Check.shape(op, "mask", mask, Shape.of(n, c));
        Check.same(op, "y", y, "x", x);
        for (int b = 0; b < n; b++) {
            for (int j = 0; j < c; j++) {
                mask.set((long) b * c + j, DropoutMask.scale(seed, b, j, p));
            }
        }
        applyMask(mask, x, y, false);
    }

    /** dx[n, h, w, c] += dy[n, h, w, c] * mask[n, c]. */
    static void dropout2dBackward(Tensor mask, Tensor dy, Tensor dx) {
        String op = "dropout2dBackward";
        RefArgs.floats(op, "mask", mask);
        RefArgs.floats(op, "dy", dy);
        RefArgs.floats(op, "dx", dx);
        Check.rank(op, "dy", dy, 4, "(N, H, W, C)");
        Check.shape(op, "mask", mask, Shape.of(dy.shape().dim(0), dy.shape().dim(3)));
        Check.same(op, "dx", dx, "dy", dy);
        applyMask(mask, dy, dx, true);
    }

    /** dst[m, dstChannel + j] = (or += when accumulate) src[m, srcChannel + j], j < count. */
    static void copyChannels(Tensor src, int srcChannel, Tensor dst, int dstChannel, int count, boolean accumulate) {
        String op = "copyChannels";
        RefArgs.floats(op, "src", src);
        RefArgs.floats(op, "dst", dst);
        long rows = Check.channelBlock(op, src, srcChannel, dst, dstChannel, count);
        int cs = src.shape().last(), cd = dst.shape().last();
        for (long m = 0; m < rows; m++) {
            for (int j = 0; j < count; j++) {
                long i = m * cd + dstChannel + j;
                double v = src.get(m * cs + srcChannel + j);
                dst.set(i, accumulate ? dst.get(i) + v : v);
            }
        }
    }

    /** out (=, or += when accumulate) in * mask[n, c]; in, out (N, H, W, C), mask (N, C). */
    private static void applyMask(Tensor mask, Tensor in, Tensor out, boolean accumulate) {
        int n = in.shape().dim(0), c = in.shape().dim(3);
        long pixels = (long) in.shape().dim(1) * in.shape().dim(2);
        for (int b = 0; b < n; b++) {
            for (long hw = 0; hw < pixels; hw++) {
                for (int j = 0; j < c; j++) {
                    long i = ((long) b * pixels + hw) * c + j;
                    double v = in.get(i) * mask.get((long) b * c + j);
                    out.set(i, accumulate ? out.get(i) + v : v);
                }
            }
        }
    }
}
