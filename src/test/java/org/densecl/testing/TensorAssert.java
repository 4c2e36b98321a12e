package org.densecl.testing;

import static org.junit.jupiter.api.Assertions.fail;

import org.densecl.tensor.Tensor;

/**
 * Element-wise comparison with the project's one tolerance rule, |a - b| <= atol + rtol * |ref|
 * (llm.c's validate_result). A failure names the op, the shape, the first bad index and the largest
 * difference, so the message alone says where to look.
 */
public final class TensorAssert {
    private TensorAssert() {}

    /** Compares host tensors {@code actual} and {@code expected} element by element. */
    public static void close(String what, Tensor expected, Tensor actual, double atol, double rtol) {
        if (expected.numel() != actual.numel()) {
            fail(what + ": expected " + expected.numel() + " elements " + expected.shape() + " but got "
                    + actual.numel() + " " + actual.shape());
        }
        long n = expected.numel();
        double[] e = new double[(int) Math.min(n, Integer.MAX_VALUE)];
        double[] a = new double[e.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = expected.get(i);
            a[i] = actual.get(i);
        }
        close(what + " " + expected.shape(), e, a, atol, rtol);
    }

    /** Compares arrays with |a - b| <= atol + rtol * |expected|; NaN anywhere fails. */
    public static void close(String what, double[] expected, double[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        int bad = 0, firstBad = -1, worst = -1;
        double worstExcess = 0, maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[i]);
            double allowed = atol + rtol * Math.abs(expected[i]);
            if (!(diff <= allowed)) { // also true for NaN
                bad++;
                if (firstBad < 0) {
                    firstBad = i;
                }
                double excess = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : diff - allowed;
                if (worst < 0 || excess > worstExcess) {
                    worst = i;
                    worstExcess = excess;
                }
            }
            if (diff > maxDiff) {
                maxDiff = diff;
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d elements differ (atol %.1e, rtol %.1e); first at %d: expected %.8g got %.8g;"
                            + " worst at %d: expected %.8g got %.8g; max |diff| %.3e",
                    what, bad, expected.length, atol, rtol, firstBad, expected[firstBad], actual[firstBad],
                    worst, expected[worst], actual[worst], maxDiff));
        }
    }

    /** A tensor's elements as doubles on any backend: read directly from host memory, else downloaded. */
    public static double[] values(org.densecl.backend.Backend be, Tensor t) {
        if (t.isHost()) {
            return host(t);
        }
        float[] f = new float[(int) t.numel()];
        be.download(t, f);
        double[] d = new double[f.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** A tensor's elements as doubles, in storage order. */
    public static double[] host(Tensor t) {
        double[] d = new double[(int) t.numel()];
        for (int i = 0; i < d.length; i++) {
            d[i] = t.get(i);
        }
        return d;
    }

    /** The largest |x|: the scale a tensor's tolerance is relative to. */
    public static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
