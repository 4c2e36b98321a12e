package org.densecl.backend.cuda;

/**
 * What {@link CudaDevices#probe()} found: the driver and device 0, or the one-line reason nothing
 * loaded ({@code reason} non-null, the other fields zero or empty).
 *
 * @param reason        why CUDA is unusable here, or null when a device was found
 * @param driverVersion the driver's CUDA version, e.g. 13000
 * @param deviceCount   devices the driver sees
 * @param deviceName    device 0's name
 * @param ccMajor       compute capability of device 0, major
 * @param ccMinor       compute capability of device 0, minor
 * @param totalBytes    device 0's memory
 */
public record CudaProbe(String reason, int driverVersion, int deviceCount, String deviceName, int ccMajor,
                        int ccMinor, long totalBytes) {

    public static CudaProbe unavailable(String reason) {
        return new CudaProbe(reason, 0, 0, "", 0, 0, 0);
    }

    public boolean available() {
        return reason == null;
    }

    /** One line for `densecl info`: the device, or the reason. */
    public String describe() {
        if (!available()) {
            return "unavailable: " + reason;
        }
        return String.format("%s (sm_%d%d, %.1f GiB), driver CUDA %d.%d, %d device%s", deviceName, ccMajor,
                ccMinor, totalBytes / (1024.0 * 1024 * 1024), driverVersion / 1000, driverVersion % 1000 / 10,
                deviceCount, deviceCount == 1 ? "" : "s");
    }
}
