package org.densecl.backend.cpu.parallel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The CPU backend's only source of parallelism: persistent worker threads and a blocking "run this for
 * every part" call. Kernels split their outermost independent axis into parts and say which axis in
 * their first comment; a part may index per-part scratch, since each part runs exactly once.
 *
 * <p>Why not an ExecutorService: a training step makes hundreds of short calls (a BN, a ReLU, a small
 * GEMM), and a pool worker that parks between them is slow to wake, while OpenBLAS's threads spin. Here
 * workers spin for a short while after each call before they park, parts are handed out through one
 * atomic ticket (so an uneven part does not stall the rest), and a call allocates nothing of its own.
 *
 * <p>A call waits only for the parts that were claimed, never for a worker to check in: the ticket
 * holds the call's generation next to the next part index, and a worker claims a part by a
 * compare-and-set on both. On shared cores a worker is often descheduled, and a caller that waited for
 * it would lose a scheduler time slice even after running every part itself.
 *
 * <p>Calls from several threads are serialised. A call made from inside a part (nested) runs inline on
 * that thread, so nesting cannot deadlock.
 */
public final class Parallel implements AutoCloseable {
    /** Spin iterations (Thread.onSpinWait) before a waiting thread parks: some tens of microseconds. */
    private static final int SPINS = 1 << 11;

    private final int threads;
    private final Thread[] workers;                  // threads - 1 helpers; the caller is the last one
    private final Object callLock = new Object();
    // (generation << 32) | next part index. A claim is a CAS from (g, i) to (g, i + 1) with i < parts, so
    // a worker still looking at a finished call's generation can never take a part of the next one. Each
    // call uses two generations: one that retires the previous ticket while body and parts change (its
    // index is past any part), then the call's own.
    private final AtomicLong ticket = new AtomicLong();
    private final AtomicInteger done = new AtomicInteger();      // parts of the current call finished
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
    private final ThreadLocal<Boolean> insidePart = ThreadLocal.withInitial(() -> false);
    private long generation;                         // the caller's count of calls (under callLock)
    private volatile IntConsumer body;
    private volatile int parts;
    private volatile Thread caller;
    private volatile boolean closed;

    public Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("Parallel: threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Thread(this::workerLoop, "densecl-cpu-" + (i + 1));
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    public int threads() {
        return threads;
    }

    /** Runs body(part) for part in [0, parts), spread over the threads, and waits for all of them. */
    public void forEach(int parts, IntConsumer body) {
        if (parts <= 0) {
            return;
        }
        if (parts == 1 || workers.length == 0 || insidePart.get()) {
            for (int p = 0; p < parts; p++) {
                body.accept(p);
            }
            return;
        }
        synchronized (callLock) {
            if (closed) {
                throw new IllegalStateException("Parallel: used after close()");
            }
            // First retire the last call's ticket under a generation of its own with no part left: a worker
            // that read the old ticket (g, i) and then reads the NEW parts count would otherwise pass the
            // i < parts test and win its CAS on the unchanged old ticket, running a phantom part with the new
            // body and counting it as done, so the caller could return while a real part still ran.
            ticket.set((++generation & 0xFFFF_FFFFL) << 32 | Integer.MAX_VALUE);
            this.body = body;
            this.parts = parts;
            this.caller = Thread.currentThread();
            failure.set(null);
            done.set(0);
            long gen = ++generation & 0xFFFF_FFFFL;
            ticket.set(gen << 32);                   // volatile write: publishes everything above
            for (Thread w : workers) {
                LockSupport.unpark(w);               // cheap when the worker is still spinning
            }
            runParts(gen);
            for (int spin = 0; done.get() < parts; spin++) {
                if (spin < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            this.body = null;
            RuntimeException e = failure.get();
            if (e != null) {
                throw e;
            }
        }
    }

    /**
     * Splits [0, n) into at most {@code threads} contiguous ranges and runs body(start, end) on each.
     * Use when each part should be one large contiguous block (streams, reductions).
     */
    public void forRange(long n, RangeBody body) {
        int parts = (int) Math.max(1, Math.min(threads, n));
        forEach(parts, p -> body.run(n * p / parts, n * (p + 1) / parts));
    }

    /** A contiguous slice [start, end) of a parallel loop. */
    @FunctionalInterface
    public interface RangeBody {
        void run(long start, long end);
    }

    /**
     * Claims parts of call {@code gen} until none is left or that call is over. After a failure the
     * remaining parts are still claimed and counted, but not run; the first failure is kept.
     */
    private void runParts(long gen) {
        insidePart.set(true);
        try {
            while (true) {
                long t = ticket.get();
                int p = (int) t;
                // parts is read after the ticket and may already be a later call's; the CAS below then
                // fails, because that call retired this ticket before it wrote parts (see forEach).
                if (t >>> 32 != gen || p >= parts || !ticket.compareAndSet(t, t + 1)) {
                    if (t >>> 32 != gen || p >= parts) {
                        return;
                    }
                    continue;
                }
                // Claimed: the call cannot end before this part is counted, so these fields are its own.
                int n = parts;
                Thread c = caller;
                try {
                    if (failure.get() == null) {
                        body.accept(p);
                    }
                } catch (RuntimeException | Error e) {
                    failure.compareAndSet(null, e instanceof RuntimeException re ? re : new RuntimeException(e));
                }
                if (done.incrementAndGet() == n && c != Thread.currentThread()) {
                    LockSupport.unpark(c);
                }
            }
        } finally {
            insidePart.set(false);
        }
    }

    private void workerLoop() {
        long seen = 0;
        while (true) {
            for (int spin = 0; ticket.get() >>> 32 == seen && !closed; spin++) {
                if (spin < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = ticket.get() >>> 32;
            runParts(seen);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
