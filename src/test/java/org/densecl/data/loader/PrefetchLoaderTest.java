package org.densecl.data.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.densecl.data.augment.AugmentConfig;
import org.densecl.data.augment.PretrainViews;
import org.densecl.data.io.GrayImage;
import org.junit.jupiter.api.Test;

/** Order, reproducibility, bounds and error handling of the background loader. */
class PrefetchLoaderTest {
    static final int N = 11;

    static GrayImage image(int i) {
        float[] p = new float[40 * 50];
        SplittableRandom r = new SplittableRandom(i);
        for (int k = 0; k < p.length; k++) {
            p[k] = (float) r.nextDouble();
        }
        return new GrayImage(40, 50, p);
    }

    static PretrainViews views() {
        return new PretrainViews(AugmentConfig.load(Path.of(AugmentConfig.DEFAULT_PATH), List.of("pretrain.size=24")).pretrain());
    }

    static List<float[]> stream(int workers, int batches) {
        List<float[]> out = new ArrayList<>();
        var opts = new PrefetchLoader.Options(4, 9, true, false, workers, 3);
        try (var loader = new PrefetchLoader<>(PretrainBatch.filler(PrefetchLoaderTest::image, views(), 9), N, opts)) {
            for (int k = 0; k < batches; k++) {
                var b = loader.take();
                int len = b.count() * 24 * 24 * 3;
                float[] copy = Arrays.copyOf(b.batch().view1, len + b.count());
                for (int j = 0; j < b.count(); j++) {
                    copy[len + j] = b.batch().samples[j];
                }
                out.add(copy);
            }
        }
        return out;
    }

    @Test
    void aLoaderStartedAtBatchKContinuesTheStream() {
        List<float[]> full = stream(2, 8);
        var opts = new PrefetchLoader.Options(4, 9, true, false, 2, 3);
        try (var loader = new PrefetchLoader<>(PretrainBatch.filler(PrefetchLoaderTest::image, views(), 9), N, opts, 5)) {
            for (int k = 5; k < 8; k++) { // 3 batches per epoch: batch 5 is epoch 1, step 2
                var b = loader.take();
                assertEquals(k / 3, b.epoch(), "started loader: epoch of batch " + k);
                float[] v = Arrays.copyOf(b.batch().view1, full.get(k).length - b.count());
                assertArrayEquals(Arrays.copyOf(full.get(k), v.length), v, "started loader: batch " + k);
            }
        }
    }

    @Test
    void theStreamDoesNotDependOnWorkerCount() {
        List<float[]> one = stream(1, 7), three = stream(3, 7);
        for (int k = 0; k < 7; k++) {
            assertArrayEquals(one.get(k), three.get(k), "batch " + k);
        }
    }

    @Test
    void eachEpochVisitsEverySampleOnceInAShuffledOrder() {
        var opts = new PrefetchLoader.Options(4, 1, true, false, 2, 2);
        try (var loader = new PrefetchLoader<>(countingFiller(new AtomicInteger()), N, opts)) {
            assertEquals(3, loader.batchesPerEpoch());
            int[][] epochs = new int[2][];
            for (int e = 0; e < 2; e++) {
                List<Integer> seen = new ArrayList<>();
                for (int s = 0; s < 3; s++) {
                    var b = loader.take();
                    assertEquals(e, b.epoch());
                    assertEquals(s, b.step());
                    assertEquals(s < 2 ? 4 : 3, b.count(), "last batch is partial");
                    for (int j = 0; j < b.count(); j++) {
                        seen.add(b.batch()[j]);
                    }
                }
                epochs[e] = seen.stream().mapToInt(Integer::intValue).toArray();
                int[] sorted = epochs[e].clone();
                Arrays.sort(sorted);
                for (int i = 0; i < N; i++) {
                    assertEquals(i, sorted[i], "epoch " + e + " is a permutation");
                }
            }
            assertNotEquals(Arrays.toString(epochs[0]), Arrays.toString(epochs[1]), "epochs are shuffled differently");
        }
        var drop = new PrefetchLoader.Options(4, 1, false, true, 1, 2);
        try (var loader = new PrefetchLoader<>(countingFiller(new AtomicInteger()), N, drop)) {
            assertEquals(2, loader.batchesPerEpoch());
            assertArrayEquals(new int[] {0, 1, 2, 3}, Arrays.copyOf(loader.take().batch(), 4));
            assertArrayEquals(new int[] {4, 5, 6, 7}, Arrays.copyOf(loader.take().batch(), 4));
            assertArrayEquals(new int[] {0, 1, 2, 3}, Arrays.copyOf(loader.take().batch(), 4), "next epoch, no partial batch");
        }
    }

    @Test
    void workersPrefetchUpToCapacityAndNoFurther() throws InterruptedException {
        AtomicInteger fills = new AtomicInteger();
        var opts = new PrefetchLoader.Options(2, 1, true, false, 2, 3);
        try (var loader = new PrefetchLoader<>(countingFiller(fills), N, opts)) {
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (fills.get() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Thread.sleep(100);
            assertEquals(3, fills.get(), "filled ahead up to the 3 buffers, then waits");
            loader.take(); // holds one buffer
            loader.take(); // recycles the first: one more fill possible
            deadline = System.nanoTime() + 5_000_000_000L;
            while (fills.get() < 4 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Thread.sleep(100);
            assertEquals(4, fills.get());
        }
    }

    @Test
    void aBadFileStopsTheStreamWithItsError() {
        IntFunction<GrayImage> load = i -> {
            if (i == 5) {
                throw new IllegalArgumentException("cannot decode image /data/x/five.png (unreadable or truncated)");
            }
            return image(i);
        };
        var opts = new PrefetchLoader.Options(3, 2, false, false, 2, 2);
        try (var loader = new PrefetchLoader<>(PretrainBatch.filler(load, views(), 2), N, opts)) {
            // Batch 1 (samples 3..5) fails. Whichever worker finishes first, batch 0 is still delivered
            // and the error comes exactly when the stream reaches batch 1.
            loader.take(); // samples 0..2
            var e = assertThrows(IllegalArgumentException.class, loader::take);
            assertTrue(e.getMessage().contains("five.png"), e.getMessage());
        }
    }

    /** A filler whose batch is the sample indices themselves; counts fills. */
    static PrefetchLoader.Filler<int[]> countingFiller(AtomicInteger fills) {
        return new PrefetchLoader.Filler<>() {
            @Override
            public int[] allocate(int batchSize) {
                return new int[batchSize];
            }

            @Override
            public void fill(int[] batch, int[] samples, int count, long epoch) {
                System.arraycopy(samples, 0, batch, 0, count);
                fills.incrementAndGet();
            }
        };
    }
}
