package org.densecl.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Large host buffers on transparent huge pages (2 MiB instead of 4 KiB): anonymous memory from mmap,
 * marked with madvise(MADV_HUGEPAGE) before it is first touched, unmapped when its arena closes.
 *
 * <p>Why: a ResNet-50 step at batch 8 walks 1.5 GB of activations. With 4 KiB pages that is 375k pages,
 * and the core's TLB (2k entries) covers 8 MB of them, so the convolutions' gathers and the batch-norm
 * passes miss the TLB all the time. Linux here hands out huge pages only to memory that asks for them
 * (/sys/kernel/mm/transparent_hugepage/enabled is "madvise"), and the JDK's Arena memory never asks.
 * What they bring per step: docs/performance.md, "Huge pages".
 *
 * <p>Where mmap or madvise is missing (not Linux, native access denied) or fails, {@link #allocate} falls back
 * to the arena; the memory is zero-filled either way (anonymous mmap memory is zero by definition).
 */
public final class HugePages {
    /** Below this a buffer is not worth a mapping of its own: half a huge page. */
    public static final long MIN_BYTES = 1L << 20;
    private static final long HUGE = 2L << 20;
    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
    private static final int MADV_HUGEPAGE = 14;
    // void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off); int munmap(void *, size_t);
    // int madvise(void *addr, size_t len, int advice)
    private static final MethodHandle MMAP, MUNMAP, MADVISE;
    // Bytes of the live buffers, each rounded up to whole huge pages (what they can hold resident). Native
    // memory tracking does not see mmap, so memory reports add this to its count of arena memory.
    private static final java.util.concurrent.atomic.AtomicLong LIVE = new java.util.concurrent.atomic.AtomicLong();

    static {
        MethodHandle mmap = null, munmap = null, madvise = null;
        try {
            Linker linker = Linker.nativeLinker();
            var lookup = linker.defaultLookup();
            // -Ddensecl.hugePages=false turns them off (to measure what they bring).
            if (System.getProperty("os.name", "").startsWith("Linux")
                    && Boolean.parseBoolean(System.getProperty("densecl.hugePages", "true"))) {
                mmap = lookup.find("mmap").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG))).orElse(null);
                munmap = lookup.find("munmap").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG))).orElse(null);
                madvise = lookup.find("madvise").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT)))
                        .orElse(null);
            }
        } catch (RuntimeException | LinkageError e) {
            mmap = null; // e.g. native access denied: the arena serves every buffer
        }
        boolean all = mmap != null && munmap != null && madvise != null;
        MMAP = all ? mmap : null;
        MUNMAP = all ? munmap : null;
        MADVISE = all ? madvise : null;
    }

    private HugePages() {}

    /** Bytes of the buffers mapped here and not yet freed, each rounded up to whole 2 MiB pages. */
    public static long liveBytes() {
        return LIVE.get();
    }

    /** Whether buffers of at least {@link #MIN_BYTES} are mapped here (false: they come from the arena). */
    public static boolean available() {
        return MMAP != null;
    }

    /**
     * {@code bytes} zero bytes, 2 MiB-aligned on huge pages when possible, freed when {@code arena} closes;
     * small buffers and every failure take {@code arena.allocate(bytes, 64)} instead.
     */
    public static MemorySegment allocate(Arena arena, long bytes) {
        if (MMAP == null || bytes < MIN_BYTES) {
            return arena.allocate(bytes, 64);
        }
        // Map one huge page more than asked, so that the buffer can start on a 2 MiB boundary.
        long mapped = (bytes + HUGE - 1) / HUGE * HUGE + HUGE;
        try {
            MemorySegment base = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, mapped,
                    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
            if (base.address() == -1L) { // MAP_FAILED
                return arena.allocate(bytes, 64);
            }
            long start = (base.address() + HUGE - 1) / HUGE * HUGE;
            MemorySegment buffer = MemorySegment.ofAddress(start);
            int ignored = (int) MADVISE.invokeExact(buffer, mapped - (start - base.address()), MADV_HUGEPAGE);
            // A failed madvise leaves ordinary pages: still correct, only slower; nothing to report.
            long pages = mapped - HUGE;
            LIVE.addAndGet(pages);
            return buffer.reinterpret(bytes, arena, unused -> {
                unmap(base, mapped);
                LIVE.addAndGet(-pages);
            });
        } catch (Throwable e) {
            throw new IllegalStateException("allocate: mmap of " + mapped + " bytes failed: " + e, e);
        }
    }

    private static void unmap(MemorySegment base, long mapped) {
        try {
            int ignored = (int) MUNMAP.invokeExact(base, mapped);
        } catch (Throwable e) {
            throw new IllegalStateException("close: munmap of " + mapped + " bytes failed: " + e, e);
        }
    }
}
