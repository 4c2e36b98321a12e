package org.densecl.backend.cpu.simd;

import jdk.incubator.vector.FloatVector;

/**
 * The cpu kernels' vector width for the model a command is about to run, chosen before any kernel runs
 * ({@link Lanes} fixes it for the JVM on first use): 16 floats when the CPU has them (AVX-512) and the
 * model's narrowest layer fills whole 16-float vectors, else 8. A full-width ResNet (64 channels and up) gets
 * 16 on AVX-512; the quick recipes' 1/8-width models (8-channel layers: most vectors would be masked tails
 * and most GEMM tiles edge tiles) keep 8, which runs them faster. The property {@code densecl.vectorBits}
 * wins over this choice; without either, the kernels use 8 floats.
 */
public final class WidthChoice {
    private static int requestedBits;  // 0: none
    private static boolean fixed;      // Lanes has read the choice

    private WidthChoice() {}

    /**
     * Requests the width for a model whose narrowest layer has {@code channels} channels. Returns the bits
     * chosen, or the kernels' width where that is fixed already, by kernels that have run or by the property
     * {@code densecl.vectorBits} (the request then changes nothing).
     */
    public static synchronized int forNarrowestLayer(int channels) {
        int bits = bitsFor(FloatVector.SPECIES_PREFERRED.length(), channels);
        if (!fixed && System.getProperty("densecl.vectorBits", "").isEmpty()) {
            requestedBits = bits;
            return bits;
        }
        return Lanes.FLOATS.vectorBitSize();
    }

    /** The rule: 512 bits when the CPU has 16-float vectors and {@code channels} fills them, else 256. */
    public static int bitsFor(int cpuFloats, int channels) {
        return cpuFloats >= 16 && channels % 16 == 0 ? 512 : 256;
    }

    /** The narrowest layer of a ResNet at {@code widthMultiplier}: its stem's channels (64 at full width). */
    public static int forResNetWidth(double widthMultiplier) {
        return forNarrowestLayer((int) Math.round(64 * widthMultiplier));
    }

    // Lanes's choice when densecl.vectorBits is unset: the request, or 256; fixed from then on.
    static synchronized int bitsForLanes() {
        fixed = true;
        return requestedBits == 0 ? 256 : requestedBits;
    }
}
