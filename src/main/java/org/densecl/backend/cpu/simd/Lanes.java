package org.densecl.backend.cpu.simd;

import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one float vector species every cpu kernel uses, fixed on first use for the rest of the JVM: the width
 * {@link WidthChoice} picked for the command's model (16 floats on AVX-512 for full-width models, else 8),
 * unless the system property {@code densecl.vectorBits} names another (64, 128, 256 or 512), which tests use to
 * run the kernels at other widths. The GEMM's register tile, the Winograd transforms and the elementwise kernels
 * all follow it, so each ISA gets kernels shaped for its vectors.
 *
 * <p>Why one species for everything: a JVM that runs two float species sees C2 fail to intrinsify Vector
 * API calls whose shared profiles hold both, so that vectors become heap objects in kernels of either
 * width, differently from one JVM to the next (the performance page has the numbers).
 */
public final class Lanes {
    private Lanes() {}

    /** The species of every cpu kernel. */
    public static final VectorSpecies<Float> FLOATS = pick(System.getProperty("densecl.vectorBits", ""));
    /** Floats per vector. */
    public static final int COUNT = FLOATS.length();

    /** The species for a {@code densecl.vectorBits} value: "" for {@link WidthChoice}'s. */
    static VectorSpecies<Float> pick(String bits) {
        if (bits.isEmpty()) {
            return VectorSpecies.of(float.class, VectorShape.forBitSize(WidthChoice.bitsForLanes()));
        }
        try {
            return VectorSpecies.of(float.class, VectorShape.forBitSize(Integer.parseInt(bits)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("densecl.vectorBits=" + bits + " is not a vector width; use 64, 128,"
                    + " 256 or 512 (or leave it unset: 512 on AVX-512 for full-width models, else 256)", e);
        }
    }
}
