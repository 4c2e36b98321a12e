package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** {@link KernelQueue} on a real context: cuLaunchKernel, cuMemsetD8Async, and reads through pinned memory. */
final class DeviceQueue implements KernelQueue {
    private final CudaContext context;
    private final CudaDriver driver;
    private final long[] functions;         // CUfunction by CudaKernel ordinal
    private final MemorySegment pinnedWord; // (8) bytes: the landing place of read()

    DeviceQueue(CudaContext context, long[] functions) {
        this.context = context;
        this.driver = context.driver();
        this.functions = functions;
        this.pinnedWord = context.allocatePinned(8);
    }

    @Override
    public void launch(CudaKernel k, int gridX, int gridY, int blockX, int blockY, long stream, KernelArgs args) {
        driver.launchKernel(functions[k.ordinal()], gridX, gridY, 1, blockX, blockY, 1, 0, stream, args.params());
    }

    @Override
    public void memset(long ptr, byte value, long bytes, long stream) {
        driver.memsetD8Async(ptr, value, bytes, stream);
    }

    @Override
    public long read(long stream, long ptr, int bytes) {
        synchronized (pinnedWord) {
            driver.memcpyDtoHAsync(pinnedWord, ptr, bytes, stream);
            driver.streamSynchronize(stream);
            return bytes == 8 ? pinnedWord.get(ValueLayout.JAVA_LONG, 0) : pinnedWord.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** Frees the pinned word (the context frees it too if this is never called). */
    void close() {
        context.freePinned(pinnedWord);
    }
}
