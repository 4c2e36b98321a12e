package org.densecl.backend.cuda;

/**
 * Device memory ran out: the message says the size asked for, what the device had free of its total, and
 * what to lower, so a user can act on the one line the CLI prints.
 */
public final class OutOfDeviceMemory extends CudaException {
    private final long asked;

    OutOfDeviceMemory(long asked, long free, long total, String what) {
        super(message(asked, free, total, what), CudaDriver.ERROR_OUT_OF_MEMORY);
        this.asked = asked;
    }

    /** Bytes the failed allocation asked for. */
    public long asked() {
        return asked;
    }

    static String message(long asked, long free, long total, String what) {
        return "CUDA out of memory: " + what + " asked for " + DeviceBytes.format(asked) + " but the device has "
                + DeviceBytes.format(free) + " free of " + DeviceBytes.format(total) + ". Lower the batch size"
                + " (--batch), the input size (--size) or, for DenseCL, the queue length; or free the GPU of other"
                + " processes (nvidia-smi lists them).";
    }
}
