package org.densecl.backend.cuda;

import org.junit.jupiter.api.Assumptions;

/** The skip every GPU test starts with: visible, with the reason printed, when no device loads. */
final class GpuTests {
    private GpuTests() {}

    static void assumeDevice() {
        CudaProbe p = CudaDevices.probe();
        if (!p.available()) {
            String reason = "no CUDA device: " + p.reason();
            System.out.println("SKIPPED (GPU test) " + reason);
            Assumptions.assumeTrue(false, reason);
        }
    }
}
