package org.densecl.backend.cpu;

/**
 * Per-call working arrays (per-channel statistics, per-part partial sums, resize tables) that grow
 * once to the largest size asked for and are then reused, so a training step allocates nothing here.
 *
 * <p>The arrays belong to the thread that CALLS the backend (a ThreadLocal), which makes two callers
 * on one backend safe; the worker threads of that call write disjoint parts of the caller's arrays.
 * One op uses them at a time: ops never call each other while holding scratch.
 */
final class Scratch {
    private static final class Arrays {
        float[] floats = new float[0];
        double[] doubles = new double[0];
        int[] ints = new int[0];
        long[] longs = new long[0];
    }

    private final ThreadLocal<Arrays> local = ThreadLocal.withInitial(Arrays::new);

    /** At least n floats; contents are whatever the last call left. */
    float[] floats(int n) {
        Arrays a = local.get();
        if (a.floats.length < n) {
            a.floats = new float[grow(n)];
        }
        return a.floats;
    }

    /** At least n doubles; contents are whatever the last call left. */
    double[] doubles(int n) {
        Arrays a = local.get();
        if (a.doubles.length < n) {
            a.doubles = new double[grow(n)];
        }
        return a.doubles;
    }

    /** At least n ints; contents are whatever the last call left. */
    int[] ints(int n) {
        Arrays a = local.get();
        if (a.ints.length < n) {
            a.ints = new int[grow(n)];
        }
        return a.ints;
    }

    /** At least n longs; contents are whatever the last call left. */
    long[] longs(int n) {
        Arrays a = local.get();
        if (a.longs.length < n) {
            a.longs = new long[grow(n)];
        }
        return a.longs;
    }

    // Some headroom, so that a slowly growing request does not reallocate every time.
    private static int grow(int n) {
        return (int) Math.min(Integer.MAX_VALUE - 8, Math.max(64, n + (long) n / 4));
    }
}
