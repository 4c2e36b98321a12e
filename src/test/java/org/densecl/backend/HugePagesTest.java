package org.densecl.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** Large buffers: zero, writable to the last byte, 2 MiB-aligned when mapped, gone when the arena closes. */
class HugePagesTest {

    @Test
    void largeBufferIsZeroWritableAndFreedWithItsArena() {
        long bytes = 3 * HugePages.MIN_BYTES + 12; // not a whole number of pages
        MemorySegment s;
        try (Arena arena = Arena.ofShared()) {
            s = HugePages.allocate(arena, bytes);
            assertEquals(bytes, s.byteSize());
            for (long i = 0; i < bytes; i += 4093) {
                assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i), "byte " + i + " of a fresh buffer");
            }
            s.set(ValueLayout.JAVA_BYTE, bytes - 1, (byte) 7);
            s.set(ValueLayout.JAVA_BYTE, 0, (byte) 9);
            assertEquals(7, s.get(ValueLayout.JAVA_BYTE, bytes - 1));
            if (HugePages.available()) {
                assertEquals(0, s.address() % (2L << 20), "a mapped buffer starts on a 2 MiB boundary");
            }
            assertTrue(s.scope().isAlive());
        }
        assertFalse(s.scope().isAlive(), "the buffer is released with its arena");
        MemorySegment closed = s;
        assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void smallBufferComesFromTheArena() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = HugePages.allocate(arena, 100);
            assertEquals(100, s.byteSize());
            assertEquals(0, s.address() % 64, "64-byte aligned, as the arena allocates it");
            assertEquals(0L, s.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    @Test
    void manyBuffersMapAndUnmapWithoutLeaking() {
        // 64 x 8 MiB = 512 MiB mapped and unmapped in turn: a leak would exhaust nothing here, but a wrong
        // munmap length or base would crash or fail loudly.
        for (int i = 0; i < 64; i++) {
            try (Arena arena = Arena.ofShared()) {
                MemorySegment s = HugePages.allocate(arena, 8L << 20);
                s.set(ValueLayout.JAVA_LONG, s.byteSize() - 8, i);
                assertEquals(i, s.get(ValueLayout.JAVA_LONG, s.byteSize() - 8));
            }
        }
    }
}
