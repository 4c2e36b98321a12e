package org.densecl.backend.ref;

import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;
import org.densecl.testing.Rand;

/** Small tensor factories shared by the ref tests: F64 by default, since most tests are grad checks. */
final class RefFixtures {
    private RefFixtures() {}

    /** A zero-filled F64 tensor. */
    static Tensor zeros(RefBackend b, int... dims) {
        return b.allocate(DType.F64, Shape.of(dims));
    }

    /** An F64 tensor uniform in [-1, 1) from {@code seed}. */
    static Tensor rand(RefBackend b, long seed, int... dims) {
        Tensor t = zeros(b, dims);
        Rand.uniform(t, seed, -1, 1);
        return t;
    }

    /** An F32 tensor holding {@code values}, viewed with {@code dims}. */
    static Tensor f32(RefBackend b, float[] values, int... dims) {
        Tensor t = b.allocate(DType.F32, Shape.of(dims));
        b.upload(values, t);
        return t;
    }

    /** An F64 tensor holding {@code values}, viewed with {@code dims}. */
    static Tensor f64(RefBackend b, double[] values, int... dims) {
        Tensor t = zeros(b, dims);
        for (int i = 0; i < values.length; i++) {
            t.set(i, values[i]);
        }
        return t;
    }

    /** An I32 tensor holding {@code values}. */
    static Tensor labels(RefBackend b, int... values) {
        Tensor t = b.allocate(DType.I32, Shape.of(values.length));
        b.upload(values, t);
        return t;
    }

    /** The elements of {@code t} as doubles. */
    static double[] values(Tensor t) {
        double[] a = new double[(int) t.numel()];
        for (int i = 0; i < a.length; i++) {
            a[i] = t.get(i);
        }
        return a;
    }
}
