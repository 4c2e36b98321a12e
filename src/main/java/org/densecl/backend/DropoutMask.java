package org.densecl.backend;

/**
 * The channel-dropout decision as a pure function of (seed, sample, channel), so that every backend
 * (and the CUDA kernel, which computes the same hash) drops exactly the same channels for a seed.
 * SplitMix64's finaliser mixes the three integers; the top 24 bits give a uniform float in [0, 1).
 */
public final class DropoutMask {
    private DropoutMask() {}

    /** Uniform in [0, 1), deterministic in its arguments. */
    public static float uniform(long seed, int sample, int channel) {
        long z = seed + 0x9E3779B97F4A7C15L * (((long) sample << 32) ^ (channel & 0xFFFFFFFFL) ^ 0x5851F42D4C957F2DL);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 40) * 0x1.0p-24f;
    }

    /** The multiplier for one channel: 0 if dropped, 1/(1-p) if kept (inverted dropout). */
    public static float scale(long seed, int sample, int channel, float p) {
        if (p <= 0f) {
            return 1f;
        }
        return uniform(seed, sample, channel) < p ? 0f : 1f / (1f - p);
    }
}
