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
    private final java.util.concurrent.atomic.AtomicLong allocations; // shared by every label of this memory

    /** @param what what these allocations hold, for the out-of-memory message ("the model's tensors") */
    DeviceMemory(CudaContext context, String what) {
        this(context, what, new java.util.concurrent.atomic.AtomicLong());
    }

    private DeviceMemory(CudaContext context, String what, java.util.concurrent.atomic.AtomicLong allocations) {
        this.context = context;
        this.what = what;
        this.allocations = allocations;
    }

    /** A view of the same device with another label (and the same allocation count). */
    DeviceMemory labelled(String label) {
        return new DeviceMemory(context, label, allocations);
    }

    /** How many allocations went through this memory and its labels: constant once steps are planned. */
    long allocations() {
        return allocations.get();
    }

    @Override
    public MemorySegment allocate(long bytes) {
        allocations.incrementAndGet();
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
