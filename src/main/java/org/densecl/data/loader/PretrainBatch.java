package org.densecl.data.loader;

import java.util.SplittableRandom;
import java.util.function.IntFunction;
import org.densecl.data.Seeds;
import org.densecl.data.augment.PretrainViews;
import org.densecl.data.io.GrayImage;

/**
 * A batch of DenseCL pretraining input: two augmented views of each image, (N, H, W, C) floats each,
 * and the sample indices. Buffers are allocated once per loader slot and refilled.
 */
public final class PretrainBatch {
    public final int capacity, height, width, channels;
    public final float[] view1; // (N, H, W, C)
    public final float[] view2; // (N, H, W, C)
    public final int[] samples; // (N) data set index of each row

    PretrainBatch(int capacity, int size, int channels) {
        this.capacity = capacity;
        this.height = size;
        this.width = size;
        this.channels = channels;
        this.view1 = new float[capacity * size * size * channels];
        this.view2 = new float[capacity * size * size * channels];
        this.samples = new int[capacity];
    }

    /**
     * A filler for {@link PrefetchLoader}: decodes image i with {@code load} and writes two views,
     * both drawn from one stream seeded by (seed, epoch, i).
     */
    public static PrefetchLoader.Filler<PretrainBatch> filler(IntFunction<GrayImage> load, PretrainViews views, long seed) {
        return new PrefetchLoader.Filler<>() {
            @Override
            public PretrainBatch allocate(int batchSize) {
                return new PretrainBatch(batchSize, views.config().size(), views.config().channels());
            }

            @Override
            public void fill(PretrainBatch b, int[] samples, int count, long epoch) {
                int len = views.viewLength();
                for (int j = 0; j < count; j++) {
                    GrayImage img = load.apply(samples[j]);
                    SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, epoch, samples[j]));
                    views.view(img, rng, b.view1, j * len);
                    views.view(img, rng, b.view2, j * len);
                    b.samples[j] = samples[j];
                }
            }
        };
    }
}
