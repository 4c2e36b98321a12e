package org.densecl.backend.cuda;

import org.junit.jupiter.api.Assumptions;

/**
 * The skip of the cuda backend's GPU tests: device 0 probed once per test JVM, the reason none loads printed
 * once to stderr (Surefire's summary shows only a count), and every test that needs it skipped with it.
 */
final class DeviceOnce {
    private static String noDevice; // null until probed, then "" when a device loads

    private DeviceOnce() {}

    static synchronized void require() {
        if (noDevice == null) {
            CudaProbe p = CudaDevices.probe();
            noDevice = p.available() ? "" : "no CUDA device: " + p.reason();
            if (!p.available()) {
                System.err.println("SKIPPED (GPU tests) " + noDevice);
            }
        }
        Assumptions.assumeTrue(noDevice.isEmpty(), noDevice);
    }
}
