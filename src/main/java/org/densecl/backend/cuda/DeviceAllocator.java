package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;

/**
 * Where grow-once device buffers come from: the backend's device memory in production, a counting fake in
 * the host-side tests (so growth policies are tested without a GPU).
 */
interface DeviceAllocator {
    /** {@code bytes} of device memory: a zero-length segment whose address is the device pointer. */
    MemorySegment allocate(long bytes);

    /** Frees what {@link #allocate} returned, once no queued work can still use it. */
    void free(MemorySegment address);
}
