package org.densecl.backend.cpu.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one float vector species every cpu kernel uses, chosen once per JVM: 8 floats (256 bits) unless the
 * system property {@code densecl.vectorBits} names another width (64, 128, 256 or 512). The GEMM's register
 * tile, the Winograd transforms and the elementwise kernels all follow it.
 *
 * <p>16 floats ({@code DENSECL_JAVA_OPTS=-Ddensecl.vectorBits=512}) is an opt-in for full-width models on
 * AVX-512, where its GEMM micro-kernel issues half the instructions per FLOP. It is not the default yet: the
 * quick recipes' 1/8-width models run slower at 16 floats (most vectors masked tails, most GEMM tiles edge
 * tiles), and C2 still boxes vectors in the batch norm's backward in the full-width ResNet-50 step (the
 * performance page has both).
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

    /** The species for a {@code densecl.vectorBits} value: "" for 8 floats. */
    static VectorSpecies<Float> pick(String bits) {
        if (bits.isEmpty()) {
            return FloatVector.SPECIES_256;
        }
        try {
            return VectorSpecies.of(float.class, VectorShape.forBitSize(Integer.parseInt(bits)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("densecl.vectorBits=" + bits + " is not a vector width; use 64, 128,"
                    + " 256 or 512 (or leave it unset for 256)", e);
        }
    }
}
