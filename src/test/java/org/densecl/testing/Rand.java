package org.densecl.testing;

import java.util.SplittableRandom;
import org.densecl.tensor.Tensor;

/** Seeded random fills for tests: the same seed gives the same tensor on every machine. */
public final class Rand {
    private Rand() {}

    /** Uniform in [lo, hi). */
    public static void uniform(Tensor t, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.numel(); i++) {
            t.set(i, lo + (hi - lo) * r.nextDouble());
        }
    }

    /** Standard normal times {@code std}. */
    public static void normal(Tensor t, long seed, double std) {
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.numel(); i++) {
            double u1 = r.nextDouble(), u2 = r.nextDouble();
            t.set(i, std * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
    }

    /** {@link #normal} on any backend: drawn on the host, uploaded when the tensor is device memory. */
    public static void normal(org.densecl.backend.Backend be, Tensor t, long seed, double std) {
        if (t.isHost()) {
            normal(t, seed, std);
            return;
        }
        try (org.densecl.backend.ref.RefBackend host = new org.densecl.backend.ref.RefBackend()) {
            Tensor h = host.allocate(t.shape());
            normal(h, seed, std);
            be.upload(org.densecl.backend.VsRef.floats(h), t);
        }
    }

    /** Integers in [0, bound) as I32 elements, with roughly {@code ignoreFraction} set to {@code ignore}. */
    public static void labels(Tensor t, long seed, int bound, int ignore, double ignoreFraction) {
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.numel(); i++) {
            t.setInt(i, r.nextDouble() < ignoreFraction ? ignore : r.nextInt(bound));
        }
    }
}
