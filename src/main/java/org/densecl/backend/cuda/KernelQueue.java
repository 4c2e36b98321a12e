package org.densecl.backend.cuda;

/**
 * What {@link CudaKernels} asks of a stream: launches, byte memsets and small reads back. The real one
 * is {@link DeviceQueue}; host-side tests record the launches instead, to check every Java launch
 * method against the C prototype of its kernel without a GPU.
 */
interface KernelQueue {
    /** Queues kernel {@code k} with the arguments packed in {@code args}. */
    void launch(CudaKernel k, int gridX, int gridY, int blockX, int blockY, long stream, KernelArgs args);

    /** Sets {@code bytes} bytes at device address {@code ptr} to {@code value}, in stream order. */
    void memset(long ptr, byte value, long bytes, long stream);

    /**
     * Waits for the stream and returns the u64 (bytes 8) or I32 (bytes 4, sign-extended) at {@code ptr}.
     */
    long read(long stream, long ptr, int bytes);
}
