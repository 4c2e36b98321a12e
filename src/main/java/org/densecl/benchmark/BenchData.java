package org.densecl.benchmark;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * Tensors for the benchmarks (gemm-summary and the JMH benchmarks of bench/): 64-byte aligned host memory from
 * one arena, filled with seeded noise.
 */
public final class BenchData implements AutoCloseable {
    private final Arena arena = Arena.ofShared();

    /** A tensor of {@code shape} with uniform values in [-1, 1). */
    public Tensor random(Shape shape, long seed) {
        Tensor t = zeros(shape);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.numel(); i++) {
            t.setFloat(i, (float) (2 * r.nextDouble() - 1));
        }
        return t;
    }

    public Tensor zeros(Shape shape) {
        MemorySegment seg = arena.allocate(Math.max(4, 4 * shape.numel()), 64);
        return Tensor.wrap(DType.F32, shape, seg.asSlice(0, 4 * shape.numel()));
    }

    @Override
    public void close() {
        arena.close();
    }
}
