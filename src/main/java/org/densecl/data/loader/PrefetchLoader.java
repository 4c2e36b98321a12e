package org.densecl.data.loader;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.densecl.data.Seeds;

/**
 * Decodes and augments batches on background threads into a bounded set of reusable batch buffers,
 * so a training step finds its next batch ready. Batches come out in a fixed order whatever the
 * number of workers: batch k of the stream is epoch k / batchesPerEpoch, and each epoch visits the
 * samples in a permutation seeded by (seed, epoch). A sample's augmentation draws are seeded by
 * (seed, epoch, sample), so the stream is reproducible and independent of threads and timing.
 *
 * <p>Memory is bounded by {@code capacity} buffers, allocated once; the batch returned by
 * {@link #take} stays valid until the next call to {@code take}, which recycles it. A worker takes
 * a free buffer and the next batch number under one lock, so buffers are handed out in batch order
 * and the batch the consumer waits for always has one (no deadlock when buffers run short). An
 * error in a worker (a damaged file) is rethrown by {@code take} as is, when the stream reaches the
 * batch that failed (earlier batches are still delivered, whatever order the workers finished in).
 */
public final class PrefetchLoader<B> implements AutoCloseable {

    /** Allocates batch buffers and fills one with the given samples. */
    public interface Filler<B> {
        B allocate(int batchSize);

        /** Fills {@code batch} with {@code count} samples {@code samples[0..count)} of {@code epoch}. */
        void fill(B batch, int[] samples, int count, long epoch);
    }

    /** A delivered batch: the buffer, its epoch and step within the epoch, and how many samples it holds. */
    public record Loaded<B>(B batch, long epoch, int step, int count) {}

    /** Sampling and threading settings. */
    public record Options(int batchSize, long seed, boolean shuffle, boolean dropLast, int workers, int capacity) {
        public Options {
            if (batchSize < 1 || workers < 1 || capacity < 1) {
                throw new IllegalArgumentException("loader: batch size, workers and capacity must be >= 1");
            }
        }
    }

    private final Filler<B> filler;
    private final Options opt;
    private final int size, batchesPerEpoch;
    private final ArrayBlockingQueue<B> free;
    private final Map<Long, Loaded<B>> ready = new HashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Object handOut = new Object();
    private final Map<Long, int[]> orders = new ConcurrentHashMap<>();
    private final Thread[] workers;
    private long nextToFill, nextToTake;
    private Loaded<B> current;
    private volatile Throwable failure;
    /** The batch whose filling failed: take() delivers every earlier batch first, then rethrows. */
    private long failedBatch = Long.MAX_VALUE;
    private volatile boolean closed;

    public PrefetchLoader(Filler<B> filler, int datasetSize, Options opt) {
        this(filler, datasetSize, opt, 0);
    }

    /**
     * A loader whose stream starts at batch {@code startBatch} (epoch startBatch / batchesPerEpoch): what
     * an uninterrupted loader would deliver from there on, without filling the skipped batches (resume).
     */
    public PrefetchLoader(Filler<B> filler, int datasetSize, Options opt, long startBatch) {
        if (startBatch < 0) {
            throw new IllegalArgumentException("loader: start batch must be >= 0, got " + startBatch);
        }
        nextToFill = startBatch;
        nextToTake = startBatch;
        if (datasetSize < 1) {
            throw new IllegalArgumentException("loader: empty data set");
        }
        this.filler = filler;
        this.opt = opt;
        this.size = datasetSize;
        this.batchesPerEpoch = opt.dropLast() ? datasetSize / opt.batchSize() : (datasetSize + opt.batchSize() - 1) / opt.batchSize();
        if (batchesPerEpoch == 0) {
            throw new IllegalArgumentException("loader: " + datasetSize + " samples make no full batch of " + opt.batchSize());
        }
        this.free = new ArrayBlockingQueue<>(opt.capacity());
        for (int i = 0; i < opt.capacity(); i++) {
            free.add(filler.allocate(opt.batchSize()));
        }
        workers = new Thread[opt.workers()];
        for (int t = 0; t < workers.length; t++) {
            workers[t] = new Thread(this::work, "densecl-loader-" + t);
            workers[t].setDaemon(true);
            workers[t].start();
        }
    }

    public int batchesPerEpoch() {
        return batchesPerEpoch;
    }

    /** The next batch in stream order; blocks until it is ready. Recycles the previous one. */
    public Loaded<B> take() {
        lock.lock();
        try {
            if (current != null) {
                free.add(current.batch());
                current = null;
            }
            Loaded<B> b;
            while ((b = ready.remove(nextToTake)) == null) {
                if (failure != null && nextToTake >= failedBatch) {
                    rethrow(failure);
                }
                if (closed) {
                    throw new IllegalStateException("loader is closed");
                }
                changed.awaitUninterruptibly();
            }
            nextToTake++;
            current = b;
            return b;
        } finally {
            lock.unlock();
        }
    }

    private void work() {
        int[] samples = new int[opt.batchSize()];
        long k = -1;
        try {
            while (!closed) {
                B buffer;
                synchronized (handOut) { // buffer and batch number together: buffers go out in batch order
                    buffer = free.take();
                    k = nextToFill++;
                }
                long epoch = k / batchesPerEpoch;
                int step = (int) (k % batchesPerEpoch);
                int[] order = order(epoch);
                int first = step * opt.batchSize(), count = Math.min(opt.batchSize(), size - first);
                System.arraycopy(order, first, samples, 0, count);
                filler.fill(buffer, samples, count, epoch);
                lock.lock();
                try {
                    ready.put(k, new Loaded<>(buffer, epoch, step, count));
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        } catch (InterruptedException e) {
            // closing
        } catch (Throwable e) {
            lock.lock();
            try {
                if (failure == null || k < failedBatch) { // keep the earliest batch's error
                    failure = e;
                    failedBatch = Math.max(k, 0);
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** The sample order of an epoch: identity, or a Fisher-Yates shuffle seeded by (seed, epoch). */
    private int[] order(long epoch) {
        int[] o = orders.get(epoch);
        if (o != null) {
            return o;
        }
        o = new int[size];
        for (int i = 0; i < size; i++) {
            o[i] = i;
        }
        if (opt.shuffle()) {
            SplittableRandom r = new SplittableRandom(Seeds.mix(opt.seed(), epoch, -1));
            for (int i = size - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = o[i];
                o[i] = o[j];
                o[j] = t;
            }
        }
        orders.put(epoch, o);
        orders.keySet().removeIf(e -> e < epoch - 1); // keep the current and previous epoch
        return o;
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) {
            t.interrupt();
        }
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        for (Thread t : workers) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException("loader worker failed: " + t, t);
    }
}
