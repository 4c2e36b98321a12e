package org.densecl.backend.cpu.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one float vector species every cpu kernel uses, chosen once per JVM: the CPU's preferred width
 * (8 floats on AVX2, 16 on AVX-512) unless the system property {@code densecl.vectorBits} names another
 * (64, 128, 256 or 512), which tests use to run the kernels at other widths. The GEMM's register tile, the
 * Winograd transforms and the elementwise kernels all follow it, so each ISA gets kernels shaped for its
 * vectors.
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

    /** The species for a {@code densecl.vectorBits} value: "" for the CPU's preferred width. */
    static VectorSpecies<Float> pick(String bits) {
        if (bits.isEmpty()) {
            return FloatVector.SPECIES_PREFERRED;
        }
        try {
            return VectorSpecies.of(float.class, VectorShape.forBitSize(Integer.parseInt(bits)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("densecl.vectorBits=" + bits + " is not a vector width; use 64, 128,"
                    + " 256 or 512 (or leave it unset for the CPU's preferred width)", e);
        }
    }
}
