package org.densecl.data.sim;

/**
 * A base-2 logarithm for the per-pixel log compression: the float's exponent plus a table of
 * log2 over the top 12 mantissa bits (bin centres). Error below 2e-4 in log2, i.e. below 0.001 dB,
 * far under the 8-bit output step of about 0.2 dB; no division or branch, and plain integer and
 * float arithmetic, so the same bits on every JVM and CPU (Math.log may use platform intrinsics).
 */
final class FastLog {
    private static final int BITS = 12;
    private static final float[] MANTISSA = new float[1 << BITS];

    static {
        for (int i = 0; i < MANTISSA.length; i++) {
            MANTISSA[i] = (float) (StrictMath.log(1 + (i + 0.5) / MANTISSA.length) / StrictMath.log(2));
        }
    }

    private FastLog() {}

    /** log2(x) for finite x > 0 (normal floats; callers clamp away zero and subnormals). */
    static float log2(float x) {
        int bits = Float.floatToRawIntBits(x);
        return (((bits >>> 23) & 0xff) - 127) + MANTISSA[(bits >>> (23 - BITS)) & ((1 << BITS) - 1)];
    }
}
