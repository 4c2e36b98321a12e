package org.densecl.backend.cpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.densecl.backend.cpu.parallel.Parallel;

/**
 * The C library's memset, bound with FFM, for clearing large native buffers (the per-step gradient
 * slabs, about 850 MB for ResNet-50 at batch 8).
 *
 * <p>Why: MemorySegment.fill ends in the JVM's own fill loop (plain stores, so every cache line is
 * first read for ownership), while glibc's memset switches to non-temporal stores above a size threshold,
 * several times faster (docs/performance.md). The zeroed bytes then are not in cache, which costs nothing
 * here: a slab is far larger than the cache anyway.
 *
 * <p>Where the symbol cannot be found (a libc without memset in the default lookup), or for heap
 * segments and small ranges, callers use MemorySegment.fill; the result is the same bytes.
 */
final class CpuMemset {
    private CpuMemset() {}

    /** Below this many bytes a downcall's fixed cost is not worth it and fill is as fast. */
    static final long MIN_BYTES = 1 << 16;

    // void *memset(void *s, int c, size_t n);
    private static final MethodHandle MEMSET = find();

    private static MethodHandle find() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("memset")
                    .map(addr -> linker.downcallHandle(addr, FunctionDescriptor.of(ValueLayout.ADDRESS,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)))
                    .orElse(null);
        } catch (RuntimeException | LinkageError e) {
            return null; // e.g. native access denied: fall back to fill
        }
    }

    /** s = 0, every byte. */
    static void zero(MemorySegment s) {
        if (MEMSET == null || !s.isNative() || s.byteSize() < MIN_BYTES) {
            s.fill((byte) 0);
            return;
        }
        try {
            MemorySegment unused = (MemorySegment) MEMSET.invokeExact(s, 0, s.byteSize());
        } catch (Throwable e) {
            throw new IllegalStateException("zero: memset of " + s.byteSize() + " bytes failed: " + e, e);
        }
    }

    /** s = 0, every byte, split over the threads in contiguous byte ranges. */
    static void zero(Parallel par, MemorySegment s) {
        CpuVec.range(par, s.byteSize(), 1, (lo, hi) -> zero(s.asSlice(lo, hi - lo)));
    }

    /** Whether memset is in use (for tests that must exercise both paths). */
    static boolean available() {
        return MEMSET != null;
    }
}
