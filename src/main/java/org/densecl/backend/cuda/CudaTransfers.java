package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Host arrays to device tensors and back, through one page-locked staging buffer (grown once to the
 * largest transfer) on the context's copy stream. Events order the copies against compute: a copy waits
 * for the compute queued before it (which may still read or write the tensor) and compute queued after an
 * upload waits for the copy. The host returns from an upload as soon as the copy is queued, so the next
 * batch's host-side work overlaps the step's kernels; a download waits for its copy, as it must.
 */
final class CudaTransfers implements AutoCloseable {
    private final CudaContext context;
    private final CudaDriver driver;
    private final long computeDone;  // CUevent: recorded on the main stream before each copy
    private final long copyDone;     // CUevent: recorded on the copy stream after each copy
    private MemorySegment staging = MemorySegment.NULL; // (capacity) bytes of pinned host memory
    private long capacity;

    CudaTransfers(CudaContext context) {
        this.context = context;
        this.driver = context.driver();
        this.computeDone = driver.eventCreate(CudaDriver.EVENT_DISABLE_TIMING);
        this.copyDone = driver.eventCreate(CudaDriver.EVENT_DISABLE_TIMING);
    }

    void upload(float[] src, long device) {
        MemorySegment pinned = stagingFor((long) src.length * Float.BYTES);
        MemorySegment.copy(src, 0, pinned, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, src.length);
        toDevice(pinned, device, (long) src.length * Float.BYTES);
    }

    void upload(int[] src, long device) {
        MemorySegment pinned = stagingFor((long) src.length * Integer.BYTES);
        MemorySegment.copy(src, 0, pinned, ValueLayout.JAVA_INT_UNALIGNED, 0, src.length);
        toDevice(pinned, device, (long) src.length * Integer.BYTES);
    }

    void download(long device, float[] dst) {
        long bytes = (long) dst.length * Float.BYTES;
        MemorySegment pinned = stagingFor(bytes);
        afterCompute();
        driver.memcpyDtoHAsync(pinned, device, bytes, context.copyStream());
        driver.streamSynchronize(context.copyStream());
        MemorySegment.copy(pinned, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, dst, 0, dst.length);
    }

    private void toDevice(MemorySegment pinned, long device, long bytes) {
        afterCompute();
        driver.memcpyHtoDAsync(device, pinned, bytes, context.copyStream());
        driver.eventRecord(copyDone, context.copyStream());
        driver.streamWaitEvent(context.mainStream(), copyDone);
    }

    // The copy stream waits for everything queued on the main stream so far.
    private void afterCompute() {
        driver.eventRecord(computeDone, context.mainStream());
        driver.streamWaitEvent(context.copyStream(), computeDone);
    }

    // The staging buffer, free for the host to fill: the previous copy out of it has finished.
    private MemorySegment stagingFor(long bytes) {
        driver.streamSynchronize(context.copyStream());
        if (bytes > capacity) {
            if (capacity > 0) {
                context.freePinned(staging);
            }
            staging = context.allocatePinned(bytes);
            capacity = bytes;
        }
        return staging;
    }

    @Override
    public void close() {
        driver.eventDestroy(computeDone);
        driver.eventDestroy(copyDone);
    }
}
