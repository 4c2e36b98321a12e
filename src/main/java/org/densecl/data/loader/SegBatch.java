package org.densecl.data.loader;

import java.util.SplittableRandom;
import org.densecl.data.Seeds;
import org.densecl.data.augment.SegAugment;
import org.densecl.data.augment.SegSample;
import org.densecl.data.io.SegDataset;

/**
 * A batch of segmentation input: augmented images (N, H, W, C) floats, labels (N, H, W) class
 * indices (255 = ignore) and the sample indices.
 */
public final class SegBatch {
    public final int capacity, height, width, channels;
    public final float[] images; // (N, H, W, C)
    public final int[] labels;   // (N, H, W)
    public final int[] samples;  // (N)

    SegBatch(int capacity, int height, int width, int channels) {
        this.capacity = capacity;
        this.height = height;
        this.width = width;
        this.channels = channels;
        this.images = new float[capacity * height * width * channels];
        this.labels = new int[capacity * height * width];
        this.samples = new int[capacity];
    }

    /** A filler for {@link PrefetchLoader}: sample i augmented with draws seeded by (seed, epoch, i). */
    public static PrefetchLoader.Filler<SegBatch> filler(SegDataset data, SegAugment aug, long seed) {
        int h = aug.config().crop().get(0), w = aug.config().crop().get(1), c = aug.config().channels();
        return new PrefetchLoader.Filler<>() {
            @Override
            public SegBatch allocate(int batchSize) {
                return new SegBatch(batchSize, h, w, c);
            }

            @Override
            public void fill(SegBatch b, int[] samples, int count, long epoch) {
                for (int j = 0; j < count; j++) {
                    SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, epoch, samples[j]));
                    SegSample s = aug.apply(data.load(samples[j]), rng);
                    System.arraycopy(s.image(), 0, b.images, j * h * w * c, h * w * c);
                    for (int p = 0; p < h * w; p++) {
                        b.labels[j * h * w + p] = s.labels()[p] & 0xff;
                    }
                    b.samples[j] = samples[j];
                }
            }
        };
    }
}
