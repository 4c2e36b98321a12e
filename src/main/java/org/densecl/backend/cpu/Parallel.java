package org.densecl.backend.cpu;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * The CPU backend's only source of parallelism: a fixed set of worker threads and a blocking
 * "run this for every part" call. Kernels split their outermost independent axis into parts and say
 * which axis in their first comment. The calling thread runs part 0 itself, so one thread means no
 * hand-off at all.
 */
public final class Parallel implements AutoCloseable {
    private final int threads;
    private final ExecutorService pool;

    public Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("Parallel: threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "densecl-cpu");
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    /** Runs body(part) for part in [0, parts), spread over the threads, and waits for all of them. */
    public void forEach(int parts, IntConsumer body) {
        if (parts <= 0) {
            return;
        }
        if (parts == 1 || pool == null) {
            for (int p = 0; p < parts; p++) {
                body.accept(p);
            }
            return;
        }
        // Each worker takes parts part, part + workers, ...: static interleaving keeps it allocation-light.
        int workers = Math.min(threads, parts);
        @SuppressWarnings("unchecked")
        Future<?>[] futures = new Future<?>[workers - 1];
        for (int t = 1; t < workers; t++) {
            final int first = t;
            futures[t - 1] = pool.submit(() -> {
                for (int p = first; p < parts; p += workers) {
                    body.accept(p);
                }
            });
        }
        RuntimeException failure = null;
        try {
            for (int p = 0; p < parts; p += workers) {
                body.accept(p);
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (Exception e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                if (failure == null) {
                    failure = cause instanceof RuntimeException re ? re : new RuntimeException(cause);
                }
            }
        }
        if (failure != null) {
            throw failure;
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

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
