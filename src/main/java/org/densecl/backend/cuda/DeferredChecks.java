package org.densecl.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Errors the device finds in its inputs (a label that is neither a class nor the ignore index, a
 * correspondence index outside the grid), reported at the host's next synchronisation instead of with a
 * synchronisation of their own, so the ops that check them keep the stream full. Each checking op claims a
 * slot: one u64 of device memory, ULLONG_MAX meaning "no error", which its kernel lowers atomically to the
 * key of its first bad element. {@link #verify()} runs where the host waits for the device anyway (a
 * download, synchronize): it reads every claimed slot in one copy, resets them, and throws the first error
 * in the order the ops were queued, with the reference backend's message.
 */
final class DeferredChecks {
    /** Slots between two synchronisations; a step uses a few, and a full table verifies early. */
    static final int SLOTS = 64;
    private static final long NO_ERROR = -1L; // ULLONG_MAX

    /** What a claimed slot's key means: the reference's message, or null for ULLONG_MAX. */
    interface Report {
        String message(long key);
    }

    private final CudaDriver driver;
    private final long stream;            // the main stream, where the checking kernels run
    private final long slots;             // (SLOTS) u64 on the device
    private final MemorySegment landing;  // (SLOTS) u64 of pinned host memory: verify's copy of the slots
    private final Report[] pending = new Report[SLOTS];
    private int claimed;

    DeferredChecks(CudaContext context) {
        this.driver = context.driver();
        this.stream = context.mainStream();
        this.slots = context.allocate((long) SLOTS * Long.BYTES);
        this.landing = context.allocatePinned((long) SLOTS * Long.BYTES);
        driver.memsetD8Async(slots, (byte) 0xFF, (long) SLOTS * Long.BYTES, stream);
    }

    /** A fresh slot (device address, ULLONG_MAX) whose key {@code report} explains at the next verify. */
    long claim(Report report) {
        if (claimed == SLOTS) {
            verify(); // only a run of more checking ops than slots between two downloads gets here
        }
        pending[claimed] = report;
        return slots + (long) Long.BYTES * claimed++;
    }

    /** Checks claimed since the last verify (tests). */
    int pending() {
        return claimed;
    }

    /**
     * Reads the claimed slots (waiting for the main stream, which the caller has just waited for anyway),
     * resets them to ULLONG_MAX and throws an IllegalArgumentException with the first error's message.
     */
    void verify() {
        if (claimed == 0) {
            return;
        }
        int n = claimed;
        claimed = 0;
        long bytes = (long) n * Long.BYTES;
        driver.memcpyDtoHAsync(landing, slots, bytes, stream);
        driver.memsetD8Async(slots, (byte) 0xFF, bytes, stream);
        driver.streamSynchronize(stream);
        String first = null;
        for (int i = 0; i < n; i++) {
            long key = landing.get(ValueLayout.JAVA_LONG, (long) i * Long.BYTES);
            String message = key == NO_ERROR ? null : pending[i].message(key);
            pending[i] = null;
            if (first == null) {
                first = message;
            }
        }
        if (first != null) {
            throw new IllegalArgumentException(first);
        }
    }

    /** Forgets the claimed slots without reading them (closing: nothing is waited for any more). */
    void discard() {
        java.util.Arrays.fill(pending, null);
        claimed = 0;
    }
}
