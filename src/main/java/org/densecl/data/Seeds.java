package org.densecl.data;

/**
 * Seeds for reproducible random streams: a well-mixed 64-bit value from a few integers (run seed,
 * epoch, index...), so that image i's stream does not depend on thread, order or batch size.
 */
public final class Seeds {
    private Seeds() {}

    /** SplitMix64's finaliser over both values. */
    public static long mix(long seed, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + index + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        z += seed;
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        return z ^ (z >>> 33);
    }

    /** mix over three values (e.g. seed, epoch, index). */
    public static long mix(long seed, long a, long b) {
        return mix(mix(seed, a), b);
    }
}
