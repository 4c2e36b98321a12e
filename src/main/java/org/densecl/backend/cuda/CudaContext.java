package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One device as the backend uses it: its retained primary context (shared with cuBLAS and cuDNN, which
 * use the runtime API), a main stream for compute and a copy stream for uploads and downloads, and every
 * device and pinned allocation made through it, all freed by {@link #close()}.
 *
 * <p>A CUDA context is current per thread. The backend may be called from several threads (the data
 * loader, the trainer), so every public entry point calls {@link #makeCurrent()} first; it is one
 * cuCtxSetCurrent, which is cheap.
 *
 * <p>Thread safety: allocation bookkeeping is synchronised; streams are not, as with CUDA itself.
 */
public final class CudaContext implements AutoCloseable {
    private final CudaDriver driver;
    private final int ordinal;
    private final int device;
    private final long context;
    private final long mainStream;
    private final long copyStream;
    private final Set<Long> deviceAllocations = new LinkedHashSet<>();
    private final Map<MemorySegment, Boolean> pinnedAllocations = new IdentityHashMap<>();
    private boolean closed;

    private CudaContext(CudaDriver driver, int ordinal) {
        this.driver = driver;
        this.ordinal = ordinal;
        int count = driver.deviceGetCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new CudaUnavailableException("CUDA device " + ordinal + " does not exist: the driver sees "
                    + count + " device" + (count == 1 ? "" : "s"));
        }
        this.device = driver.deviceGet(ordinal);
        this.context = driver.devicePrimaryCtxRetain(device);
        long main = 0, copy = 0;
        try {
            driver.ctxSetCurrent(context);
            main = driver.streamCreate(CudaDriver.STREAM_NON_BLOCKING);
            copy = driver.streamCreate(CudaDriver.STREAM_NON_BLOCKING);
        } catch (RuntimeException e) {
            if (main != 0) {
                driver.streamDestroy(main);
            }
            driver.devicePrimaryCtxRelease(device);
            throw e;
        }
        this.mainStream = main;
        this.copyStream = copy;
    }

    /** Loads the driver and retains the primary context of device {@code ordinal}, current on this thread. */
    public static CudaContext open(int ordinal) {
        return open(CudaDriver.load(), ordinal);
    }

    /** {@link #open(int)} on a given binding (tests pass one bound to a stand-in library). */
    static CudaContext open(CudaDriver driver, int ordinal) {
        return new CudaContext(driver, ordinal);
    }

    public CudaDriver driver() {
        return driver;
    }

    public int ordinal() {
        return ordinal;
    }

    /** The CUcontext handle. */
    public long handle() {
        return context;
    }

    /** The stream compute runs on (kernels, cuBLAS, cuDNN). */
    public long mainStream() {
        return mainStream;
    }

    /** The stream host↔device copies run on, so they can overlap compute. */
    public long copyStream() {
        return copyStream;
    }

    /** Makes this context current on the calling thread. */
    public void makeCurrent() {
        driver.ctxSetCurrent(context);
    }

    /**
     * {@code bytes} of device memory, zero-filled (the main stream is synchronised: a set-up call), freed
     * by {@link #close()} (or {@link #free}). When the device is full the message says how much was asked,
     * what is free, and what to change.
     */
    public long allocate(long bytes) {
        makeCurrent();
        long ptr;
        try {
            ptr = driver.memAlloc(bytes);
        } catch (CudaException e) {
            if (e.status() != CudaDriver.ERROR_OUT_OF_MEMORY) {
                throw e;
            }
            CudaDriver.MemInfo info = driver.memGetInfo();
            throw new CudaException("CUDA out of memory: asked for " + mib(bytes) + " on device " + ordinal
                    + " with " + mib(info.free()) + " free of " + mib(info.total())
                    + "; lower the batch size or the input size", e.status());
        }
        // Zeroed before returning: a later upload on the copy stream must not race this memset.
        driver.memsetD8Async(ptr, (byte) 0, bytes, mainStream);
        driver.streamSynchronize(mainStream);
        synchronized (deviceAllocations) {
            deviceAllocations.add(ptr);
        }
        return ptr;
    }

    /** Frees memory from {@link #allocate}; the caller makes sure no queued work still uses it. */
    public void free(long ptr) {
        synchronized (deviceAllocations) {
            if (!deviceAllocations.remove(ptr)) {
                throw new IllegalArgumentException("CudaContext.free: 0x" + Long.toHexString(ptr)
                        + " was not allocated by this context (or was freed already)");
            }
        }
        makeCurrent();
        driver.memFree(ptr);
    }

    /** Page-locked host memory for asynchronous copies, freed by {@link #close()} (or {@link #freePinned}). */
    public MemorySegment allocatePinned(long bytes) {
        makeCurrent();
        MemorySegment seg = driver.memHostAlloc(bytes, CudaDriver.MEMHOSTALLOC_PORTABLE);
        synchronized (pinnedAllocations) {
            pinnedAllocations.put(seg, Boolean.TRUE);
        }
        return seg;
    }

    public void freePinned(MemorySegment pinned) {
        synchronized (pinnedAllocations) {
            if (pinnedAllocations.remove(pinned) == null) {
                throw new IllegalArgumentException("CudaContext.freePinned: the segment was not allocated here");
            }
        }
        makeCurrent();
        driver.memFreeHost(pinned);
    }

    /** Waits for all work of this context (both streams). */
    public void synchronize() {
        makeCurrent();
        driver.ctxSynchronize();
    }

    /**
     * Waits for queued work, then frees every allocation, destroys the streams and releases the primary
     * context. The first failure is thrown after everything has been attempted.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<RuntimeException> failures = new ArrayList<>();
        attempt(failures, this::synchronize);
        List<Long> ptrs;
        synchronized (deviceAllocations) {
            ptrs = List.copyOf(deviceAllocations);
            deviceAllocations.clear();
        }
        for (long p : ptrs) {
            attempt(failures, () -> driver.memFree(p));
        }
        List<MemorySegment> pinned;
        synchronized (pinnedAllocations) {
            pinned = List.copyOf(pinnedAllocations.keySet());
            pinnedAllocations.clear();
        }
        for (MemorySegment s : pinned) {
            attempt(failures, () -> driver.memFreeHost(s));
        }
        attempt(failures, () -> driver.streamDestroy(mainStream));
        attempt(failures, () -> driver.streamDestroy(copyStream));
        attempt(failures, () -> driver.devicePrimaryCtxRelease(device));
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.stream().skip(1).forEach(first::addSuppressed);
            throw first;
        }
    }

    private static void attempt(List<RuntimeException> failures, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
