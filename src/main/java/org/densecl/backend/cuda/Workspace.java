package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;

/**
 * A grow-once device scratch buffer (cuDNN workspaces, the similarity matrices of denseMatch, the logits
 * of infoNceLoss). It only ever grows, to exactly the largest size asked for so far, so the first training
 * step of a shape sizes it and every later step of that shape allocates nothing. Growing waits for the
 * queued work first (through {@code drain}), because a kernel still in flight may use the old buffer.
 */
final class Workspace {
    private final DeviceAllocator allocator;
    private final Runnable drain;
    private final String what;
    private MemorySegment buffer = MemorySegment.NULL;
    private long capacity;
    private int growths;

    /**
     * @param what  what the buffer holds, for messages ("cuDNN workspace")
     * @param drain waits until no queued work uses the buffer (stream synchronize)
     */
    Workspace(DeviceAllocator allocator, Runnable drain, String what) {
        this.allocator = allocator;
        this.drain = drain;
        this.what = what;
    }

    /** The buffer, grown first if it holds fewer than {@code bytes}; NULL while nothing was asked for. */
    MemorySegment reserve(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException(what + ": negative size " + bytes);
        }
        if (bytes > capacity) {
            if (capacity > 0) {
                drain.run();
                allocator.free(buffer);
                buffer = MemorySegment.NULL;
                capacity = 0;
            }
            buffer = allocator.allocate(bytes);
            capacity = bytes;
            growths++;
        }
        return buffer;
    }

    long capacity() {
        return capacity;
    }

    /** How many times the buffer was (re)allocated: 1 per new largest shape, 0 after the first step. */
    int growths() {
        return growths;
    }

    void free() {
        if (capacity > 0) {
            allocator.free(buffer);
            buffer = MemorySegment.NULL;
            capacity = 0;
        }
    }
}
