package org.densecl.bench;

import java.util.SplittableRandom;
import org.densecl.backend.Backend;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/** Benchmark inputs for the DenseCL kernels: random rows of unit length, as the trainer feeds them. */
final class UnitRows {
    private UnitRows() {}

    /** Uniform random values, each row of the last dimension L2-normalised on the backend. */
    static Tensor of(Backend b, Shape shape, long seed) {
        float[] v = new float[(int) shape.numel()];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (2 * r.nextDouble() - 1);
        }
        Tensor raw = b.allocate(shape), t = b.allocate(shape);
        b.upload(v, raw);
        int last = shape.last();
        Shape rows = Shape.of((int) (shape.numel() / last), last);
        b.l2NormalizeForward(raw.view(rows), 1e-12f, t.view(rows), b.allocate(Shape.of(rows.dim(0))));
        return t;
    }
}
