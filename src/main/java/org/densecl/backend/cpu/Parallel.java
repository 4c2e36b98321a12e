package org.densecl.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The CPU backend's only source of parallelism: persistent worker threads and a blocking "run this for
 * every part" call. Kernels split their outermost independent axis into parts and say which axis in
 * their first comment; a part may index per-part scratch, since each part runs exactly once.
 *
 * <p>Why not an ExecutorService: a training step makes hundreds of short calls (a BN, a ReLU, a small
 * GEMM), and a pool worker that parks between them takes tens to hundreds of microseconds to wake
 * (measured under load by the GEMM benchmarks), while OpenBLAS's threads spin. Here workers spin for
 * a short while after each call before they park, parts are handed out through one atomic counter (so
 * an uneven part does not stall the rest), and a call allocates nothing of its own.
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
    private final AtomicInteger nextPart = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();   // workers still inside the current call
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
    private final ThreadLocal<Boolean> insidePart = ThreadLocal.withInitial(() -> false);
    private volatile long generation;                // bumped once per call; workers wait for a change
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
            this.body = body;
            this.parts = parts;
            this.caller = Thread.currentThread();
            failure.set(null);
            nextPart.set(0);
            running.set(workers.length);
            generation++;                            // volatile write: publishes everything above
            for (Thread w : workers) {
                LockSupport.unpark(w);               // cheap when the worker is still spinning
            }
            runParts();
            for (int spin = 0; running.get() > 0; spin++) {
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

    /** Takes parts from the shared counter until none is left; the first failure is kept. */
    private void runParts() {
        IntConsumer b = body;
        int n = parts;
        insidePart.set(true);
        try {
            for (int p = nextPart.getAndIncrement(); p < n; p = nextPart.getAndIncrement()) {
                try {
                    b.accept(p);
                } catch (RuntimeException | Error e) {
                    failure.compareAndSet(null, e instanceof RuntimeException re ? re : new RuntimeException(e));
                    nextPart.set(n);                 // stop handing out parts
                }
            }
        } finally {
            insidePart.set(false);
        }
    }

    private void workerLoop() {
        long seen = 0;
        while (true) {
            for (int spin = 0; generation == seen && !closed; spin++) {
                if (spin < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = generation;
            runParts();
            if (running.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
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
