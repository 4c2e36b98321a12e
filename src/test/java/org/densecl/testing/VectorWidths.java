package org.densecl.testing;

import jdk.incubator.vector.FloatVector;
import org.densecl.backend.cpu.simd.Lanes;
import org.junit.jupiter.api.Assumptions;

/**
 * For the GEMM-family tests that the build reruns at other vector widths (pom.xml's species-widths
 * profile): at a width beyond the CPU's own vectors (512 bits on an AVX2 machine) the Vector API runs its
 * Java fallback, 50-100 times slower, so those tests skip themselves there, saying so.
 */
public final class VectorWidths {
    private static volatile boolean warned;

    private VectorWidths() {}

    /** Skips the calling test (class) when the kernels' vectors are wider than the CPU's. */
    public static void assumeTheCpuHasThem() {
        int kernel = Lanes.COUNT, cpu = FloatVector.SPECIES_PREFERRED.length();
        if (kernel > cpu && !warned) {
            System.err.println("GEMM-family tests SKIPPED at " + kernel + " floats per vector: this CPU has " + cpu
                    + ", and the Vector API's Java fallback is too slow for them");
            warned = true;
        }
        Assumptions.assumeTrue(kernel <= cpu, () -> "SKIPPED: kernels at " + kernel + " floats on a CPU with " + cpu
                + "-float vectors run the Vector API's Java fallback");
    }
}
