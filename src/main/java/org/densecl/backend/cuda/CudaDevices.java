package org.densecl.backend.cuda;

/** Asks the driver what is there, without creating a context: for `densecl info` and the GPU check. */
public final class CudaDevices {
    private CudaDevices() {}

    /** The driver version and device 0, or the one-line reason CUDA is unusable. Never throws. */
    public static CudaProbe probe() {
        try {
            CudaDriver d = CudaDriver.load();
            int count = d.deviceGetCount();
            if (count == 0) {
                return CudaProbe.unavailable("the CUDA driver loaded but sees no device");
            }
            int dev = d.deviceGet(0);
            return new CudaProbe(null, d.driverGetVersion(), count, d.deviceGetName(dev),
                    d.deviceGetAttribute(CudaDriver.ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev),
                    d.deviceGetAttribute(CudaDriver.ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev), d.deviceTotalMem(dev));
        } catch (CudaUnavailableException | CudaException e) {
            return CudaProbe.unavailable(e.getMessage());
        }
    }
}
