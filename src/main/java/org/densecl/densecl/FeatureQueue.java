package org.densecl.densecl;

import java.util.SplittableRandom;
import org.densecl.backend.Backend;
import org.densecl.tensor.DType;
import org.densecl.tensor.Shape;
import org.densecl.tensor.Tensor;

/**
 * A MoCo / DenseCL negative-key queue: K unit vectors of D floats stored as K ROWS (the transpose of the
 * reference code's D x K column queue, so enqueueing one key is one contiguous row write and the layout
 * is what {@link Backend#infoNceLoss} reads). DenseCL holds two of these: global keys and pooled dense keys.
 *
 * <p>Initialised i.i.d. N(0, 1) from a seed, every row L2-normalised (spec 1.4). {@link #enqueue}
 * overwrites the N oldest rows (FIFO) and advances the pointer modulo K; K must be a multiple of N, as
 * the reference asserts, so a batch never straddles the end.
 */
public final class FeatureQueue {
    private final Backend be;
    private final String name;
    private final Tensor keys; // (K, D)
    private final int k;
    private final int d;
    private int ptr;           // next row to overwrite, in [0, K)

    public FeatureQueue(Backend be, String name, DType dtype, int k, int d) {
        if (k <= 0 || d <= 0) {
            throw new IllegalArgumentException("FeatureQueue " + name + ": K " + k + " and D " + d + " must be > 0");
        }
        this.be = be;
        this.name = name;
        this.k = k;
        this.d = d;
        this.keys = be.allocate(dtype, Shape.of(k, d));
    }

    /** Random unit rows from {@code seed}; pointer back to 0. */
    public void initialize(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] host = new float[k * d];
        for (int r = 0; r < k; r++) {
            double ss = 0;
            for (int c = 0; c < d; c++) {
                double v = gaussian(rng);
                host[r * d + c] = (float) v;
                ss += v * v;
            }
            float inv = (float) (1 / Math.max(Math.sqrt(ss), 1e-12));
            for (int c = 0; c < d; c++) {
                host[r * d + c] *= inv;
            }
        }
        be.upload(host, keys);
        ptr = 0;
    }

    private static double gaussian(SplittableRandom rng) {
        // Box-Muller: SplittableRandom has no nextGaussian of its own in every JDK we target.
        double u1 = 1 - rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** Writes {@code batch} (N, D) over rows [ptr, ptr + N) and advances ptr by N modulo K. */
    public void enqueue(Tensor batch) {
        int n = batch.shape().dim(0);
        if (batch.shape().rank() != 2 || batch.shape().dim(1) != d) {
            throw new IllegalArgumentException("FeatureQueue " + name + ".enqueue: keys " + batch.shape()
                    + " must be (N, " + d + ")");
        }
        if (k % n != 0) {
            throw new IllegalArgumentException("FeatureQueue " + name + ": K " + k + " must be a multiple of the batch "
                    + n + " (as the reference asserts), so a batch never wraps inside itself");
        }
        be.copy(batch, keys.slice((long) ptr * d, Shape.of(n, d)));
        ptr = (ptr + n) % k;
    }

    /** (K, D): the negatives, read by the loss. */
    public Tensor keys() {
        return keys;
    }

    public int pointer() {
        return ptr;
    }

    /** Restores the pointer (checkpoint resume). */
    public void setPointer(int p) {
        if (p < 0 || p >= k) {
            throw new IllegalArgumentException("FeatureQueue " + name + ": pointer " + p + " outside [0, " + k + ")");
        }
        ptr = p;
    }

    public int size() {
        return k;
    }

    public int dim() {
        return d;
    }

    public String name() {
        return name;
    }
}
