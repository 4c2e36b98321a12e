package org.densecl.backend.cuda;

/**
 * bf16 rounding worked out from the values rather than the bits, the oracle of the cast kernel
 * (native/cast.cu) and of the stand-in cuDNN's bf16 reads and writes: the two bf16 neighbours of a finite
 * f32 (its top 16 bits truncated, and the next bf16 away from zero, 2^128 past the largest finite one)
 * compared by their distance in double, a tie going to the even one. NaN gives CUDA's canonical 0x7FFF.
 */
final class Bf16Reference {
    private Bf16Reference() {}

    /** The bf16 bits nearest to {@code f}. */
    static short round(float f) {
        if (Float.isNaN(f)) {
            return 0x7FFF;
        }
        int bits = Float.floatToRawIntBits(f);
        int down = bits >>> 16;   // toward zero
        int up = down + 1;        // away from zero; past the largest finite bf16 this is infinity
        if ((bits & 0xFFFF) == 0 || Float.isInfinite(f)) {
            return (short) down;
        }
        // IEEE rounding sees past the largest finite bf16 the next value of an unbounded exponent, 2^128
        double upValue = Float.isInfinite(value(up)) ? Math.copySign(0x1p128, f) : value(up);
        double x = f, dDown = Math.abs(x - value(down)), dUp = Math.abs(upValue - x);
        if (dDown != dUp) {
            return (short) (dDown < dUp ? down : up);
        }
        return (short) ((down & 1) == 0 ? down : up);
    }

    /** The value of bf16 bits (the upper half of an f32). */
    static float value(int bf16) {
        return Float.intBitsToFloat((bf16 & 0xFFFF) << 16);
    }
}
