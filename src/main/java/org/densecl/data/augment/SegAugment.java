package org.densecl.data.augment;

import java.util.SplittableRandom;
import org.densecl.data.io.GrayImage;
import org.densecl.data.io.LabelImage;
import org.densecl.data.io.SegDataset;

/**
 * mmsegmentation's training pipeline, on image and mask together: RandomResize (keep ratio, scale
 * times a random ratio; image bilinear, mask nearest), RandomCrop with cat_max_ratio, RandomFlip,
 * PhotoMetricDistortion (brightness, contrast; saturation and hue do not apply to gray), then the
 * data preprocessor's normalisation and padding to the crop size (image 0 after normalisation,
 * mask the ignore index). Stateless and thread-safe; the caller passes the random source.
 */
public final class SegAugment {
    private final AugmentConfig.Segmentation cfg;

    public SegAugment(AugmentConfig.Segmentation cfg) {
        this.cfg = cfg;
    }

    public AugmentConfig.Segmentation config() {
        return cfg;
    }

    public SegSample apply(SegDataset.Item item, SplittableRandom rng) {
        GrayImage img = item.image();
        LabelImage lab = item.labels();
        // RandomResize: mmcv rescale_size with keep_ratio, target (long, short) edges times a ratio
        double r = cfg.ratio().sample(rng);
        double longEdge = cfg.scale().get(0) * r, shortEdge = cfg.scale().get(1) * r;
        int h = img.height(), w = img.width();
        double f = Math.min(longEdge / Math.max(h, w), shortEdge / Math.min(h, w));
        int nh = Math.max(1, (int) (h * f + 0.5)), nw = Math.max(1, (int) (w * f + 0.5));
        img = Resample.resize(img, nh, nw);
        lab = Resample.resizeNearest(lab, nh, nw);
        // RandomCrop with cat_max_ratio
        int ch = Math.min(cfg.crop().get(0), nh), cw = Math.min(cfg.crop().get(1), nw);
        int[] box = cropBox(lab, ch, cw, rng);
        img = cropImage(img, box[0], box[1], ch, cw);
        lab = cropLabels(lab, box[0], box[1], ch, cw);
        boolean flip = rng.nextDouble() < cfg.flipProbability();
        photometric(img.pixels(), rng);
        return pack(img, lab, flip);
    }

    /** Up to 10 tries for a crop where no single class (ignore excluded) exceeds catMaxRatio. */
    int[] cropBox(LabelImage lab, int ch, int cw, SplittableRandom rng) {
        int[] box = null;
        int[] counts = new int[256];
        for (int attempt = 0; attempt < 10; attempt++) {
            box = new int[] {rng.nextInt(lab.height() - ch + 1), rng.nextInt(lab.width() - cw + 1)};
            if (cfg.catMaxRatio() >= 1) {
                break;
            }
            java.util.Arrays.fill(counts, 0);
            for (int z = box[0]; z < box[0] + ch; z++) {
                for (int x = box[1]; x < box[1] + cw; x++) {
                    counts[lab.get(z, x)]++;
                }
            }
            counts[cfg.ignoreIndex()] = 0;
            int classes = 0, max = 0, total = 0;
            for (int c : counts) {
                classes += c > 0 ? 1 : 0;
                max = Math.max(max, c);
                total += c;
            }
            if (classes > 1 && max < cfg.catMaxRatio() * total) {
                break;
            }
        }
        return box;
    }

    /** mmseg PhotoMetricDistortion for gray: brightness (p .5) and contrast (p .5, before or after). */
    private void photometric(float[] px, SplittableRandom rng) {
        float delta = (float) ((2 * rng.nextDouble() - 1) * cfg.brightnessDelta() / 255);
        boolean doBrightness = rng.nextBoolean();
        boolean contrastFirst = rng.nextBoolean();
        boolean doContrast = rng.nextBoolean();
        float alpha = (float) cfg.contrast().sample(rng);
        if (doContrast && contrastFirst) {
            Photometric.scale(px, alpha);
        }
        if (doBrightness) {
            Photometric.shift(px, delta);
        }
        if (doContrast && !contrastFirst) {
            Photometric.scale(px, alpha);
        }
    }

    /** Normalise, flip, pad to the crop size (image 0 = the mean, labels the ignore index). */
    private SegSample pack(GrayImage img, LabelImage lab, boolean flip) {
        int oh = cfg.crop().get(0), ow = cfg.crop().get(1), c = cfg.channels();
        float[] out = new float[oh * ow * c];
        byte[] labels = new byte[oh * ow];
        java.util.Arrays.fill(labels, (byte) cfg.ignoreIndex());
        float[] tile = new float[img.height() * img.width() * c];
        Normalize.write(img, flip, (float) cfg.mean(), (float) cfg.std(), c, tile, 0);
        for (int z = 0; z < img.height(); z++) {
            System.arraycopy(tile, z * img.width() * c, out, z * ow * c, img.width() * c);
            for (int x = 0; x < img.width(); x++) {
                labels[z * ow + x] = lab.labels()[z * img.width() + (flip ? img.width() - 1 - x : x)];
            }
        }
        return new SegSample(oh, ow, c, out, labels);
    }

    static GrayImage cropImage(GrayImage img, int top, int left, int h, int w) {
        float[] out = new float[h * w];
        for (int z = 0; z < h; z++) {
            System.arraycopy(img.pixels(), (top + z) * img.width() + left, out, z * w, w);
        }
        return new GrayImage(h, w, out);
    }

    static LabelImage cropLabels(LabelImage lab, int top, int left, int h, int w) {
        byte[] out = new byte[h * w];
        for (int z = 0; z < h; z++) {
            System.arraycopy(lab.labels(), (top + z) * lab.width() + left, out, z * w, w);
        }
        return new LabelImage(h, w, out);
    }
}
