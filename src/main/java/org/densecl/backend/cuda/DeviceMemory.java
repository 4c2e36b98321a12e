package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;

/**
 * Device memory of one {@link CudaContext} as the backend hands it out: zero-length segments carrying the
 * device address (what {@code Tensor.device} wraps), and an out-of-memory failure turned into
 * {@link OutOfDeviceMemory}, which names what the allocation was for.
 */
final class DeviceMemory implements DeviceAllocator {
    private final CudaContext context;
    private final String what;

    /** @param what what these allocations hold, for the out-of-memory message ("the model's tensors") */
    DeviceMemory(CudaContext context, String what) {
        this.context = context;
        this.what = what;
    }

    /** A view of the same device with another label. */
    DeviceMemory labelled(String label) {
        return new DeviceMemory(context, label);
    }

    @Override
    public MemorySegment allocate(long bytes) {
        try {
            return MemorySegment.ofAddress(context.allocate(bytes));
        } catch (CudaException e) {
            if (e.status() != CudaDriver.ERROR_OUT_OF_MEMORY) {
                throw e;
            }
            CudaDriver.MemInfo info = context.driver().memGetInfo();
            OutOfDeviceMemory oom = new OutOfDeviceMemory(bytes, info.free(), info.total(), what);
            oom.initCause(e);
            throw oom;
        }
    }

    @Override
    public void free(MemorySegment address) {
        context.free(address.address());
    }
}
