package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * Host arrays to device tensors and back, through one page-locked staging buffer (grown once to the
 * largest transfer) on the context's copy stream. Events order the copies against compute: a copy waits
 * for the compute queued before it (which may still read or write the tensor) and compute queued after an
 * upload waits for the copy. The host returns from an upload as soon as the copy is queued, so the next
 * batch's host-side work overlaps the step's kernels; a download waits for its copy, as it must.
 *
 * <p>{@link #uploadAsync} is the double-buffered inputs' copy: it has a pinned buffer and a copy-done event of
 * its own per destination (so copies in flight never share staging, and the host refills a buffer only after
 * its previous copy, two steps back, has finished), and compute waits for it only from {@link #awaitUpload}
 * on, so it runs while the kernels queued between the two calls (the current step) run.
 */
final class CudaTransfers implements AutoCloseable {
    private final CudaContext context;
    private final CudaDriver driver;
    private final long computeDone;  // CUevent: recorded on the main stream before each copy
    private final long copyDone;     // CUevent: recorded on the copy stream after each copy
    private MemorySegment staging = MemorySegment.NULL; // (capacity) bytes of pinned host memory
    private long capacity;
    private final Map<Long, AheadCopy> ahead = new HashMap<>(); // by destination device address

    /** The staging of one destination's asynchronous uploads. */
    private static final class AheadCopy {
        MemorySegment pinned = MemorySegment.NULL; // (capacity) bytes of pinned host memory
        long capacity;
        long copied;      // CUevent: recorded on the copy stream after the last copy out of pinned
        boolean recorded; // a copy was queued (the event has a record to wait for)
    }

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

    void uploadAsync(float[] src, long device) {
        long bytes = (long) src.length * Float.BYTES;
        MemorySegment pinned = aheadStaging(device, bytes);
        MemorySegment.copy(src, 0, pinned, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, src.length);
        copyAhead(device, pinned, bytes);
    }

    void uploadAsync(int[] src, long device) {
        long bytes = (long) src.length * Integer.BYTES;
        MemorySegment pinned = aheadStaging(device, bytes);
        MemorySegment.copy(src, 0, pinned, ValueLayout.JAVA_INT_UNALIGNED, 0, src.length);
        copyAhead(device, pinned, bytes);
    }

    /** The main stream waits for the last uploadAsync into {@code device}; nothing when there was none. */
    void awaitUpload(long device) {
        AheadCopy a = ahead.get(device);
        if (a != null && a.recorded) {
            driver.streamWaitEvent(context.mainStream(), a.copied);
        }
    }

    // The copy waits for the compute queued so far (the last readers of the destination) and no later work.
    private void copyAhead(long device, MemorySegment pinned, long bytes) {
        AheadCopy a = ahead.get(device);
        afterCompute();
        driver.memcpyHtoDAsync(device, pinned, bytes, context.copyStream());
        driver.eventRecord(a.copied, context.copyStream());
        a.recorded = true;
    }

    // The destination's own pinned buffer, once its previous copy has left it (long done: two steps back).
    private MemorySegment aheadStaging(long device, long bytes) {
        AheadCopy a = ahead.get(device);
        if (a == null) {
            a = new AheadCopy();
            a.copied = driver.eventCreate(CudaDriver.EVENT_DISABLE_TIMING);
            ahead.put(device, a);
        } else if (a.recorded) {
            driver.eventSynchronize(a.copied);
        }
        if (bytes > a.capacity) {
            if (a.capacity > 0) {
                context.freePinned(a.pinned);
            }
            a.pinned = context.allocatePinned(bytes);
            a.capacity = bytes;
        }
        return a.pinned;
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
        for (AheadCopy a : ahead.values()) {
            driver.eventDestroy(a.copied);
        }
        driver.eventDestroy(computeDone);
        driver.eventDestroy(copyDone);
    }
}
