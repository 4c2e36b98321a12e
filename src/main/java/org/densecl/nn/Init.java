package org.densecl.nn;

import java.util.SplittableRandom;
import org.densecl.backend.Backend;

/**
 * Seeded parameter initialisation. Values are drawn on the host and uploaded (the only host-to-device
 * traffic of a layer, once, before training).
 *
 * <p>Reproducibility: each tensor draws from its own {@link SplittableRandom} seeded by (run seed, tensor
 * name). The same seed gives the same weights on every machine and backend, and a tensor's values do not
 * depend on which other tensors exist: adding a classifier or changing the depth leaves conv1.weight as it
 * was. The name hash is FNV-1a over the UTF-16 chars, a fixed function (not String.hashCode's 32 bits).
 */
public final class Init {
    private final Backend be;
    private final long seed;

    public Init(Backend be, long seed) {
        this.be = be;
        this.seed = seed;
    }

    public long seed() {
        return seed;
    }

    /** The generator for the tensor called {@code name}. */
    public SplittableRandom rng(String name) {
        long h = 0xcbf29ce484222325L; // FNV-1a 64-bit offset basis
        for (int i = 0; i < name.length(); i++) {
            h = (h ^ name.charAt(i)) * 0x100000001b3L;
        }
        return new SplittableRandom(mix(seed) ^ mix(h));
    }

    /**
     * Kaiming (He) normal with the ReLU gain: N(0, std^2), std = sqrt(2 / fan). PyTorch's
     * {@code kaiming_normal_(w, mode=..., nonlinearity='relu')}.
     */
    public void kaimingNormal(Param w, FanMode mode) {
        normal(w, Math.sqrt(2.0 / mode.of(w.shape())));
    }

    /** N(0, std^2) by Box-Muller. */
    public void normal(Param p, double std) {
        SplittableRandom r = rng(p.name());
        float[] v = new float[Math.toIntExact(p.numel())];
        for (int i = 0; i < v.length; i++) {
            double u1 = r.nextDouble(), u2 = r.nextDouble();
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        be.upload(v, p.value());
    }

    /** U(-bound, bound). */
    public void uniform(Param p, double bound) {
        SplittableRandom r = rng(p.name());
        float[] v = new float[Math.toIntExact(p.numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((2 * r.nextDouble() - 1) * bound);
        }
        be.upload(v, p.value());
    }

    /** Every element = value. */
    public void constant(Param p, float value) {
        be.fill(p.value(), value);
    }

    /** SplitMix64's finaliser: spreads nearby seeds (0, 1, 2, ...) over the whole 64-bit space. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
