package org.densecl.data.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.densecl.data.io.GrayImage;
import org.densecl.data.io.LabelImage;
import org.densecl.data.io.SegDataset;
import org.junit.jupiter.api.Test;

/** The pretraining view and segmentation pipelines: reproducibility and each step's effect. */
class AugmentTest {
    static AugmentConfig cfg(String... overrides) {
        return AugmentConfig.load(Path.of(AugmentConfig.DEFAULT_PATH), List.of(overrides));
    }

    static GrayImage texture(int h, int w) {
        float[] p = new float[h * w];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) r.nextDouble();
        }
        return new GrayImage(h, w, p);
    }

    @Test
    void viewsAreReproducibleFromTheSeedAndDifferBetweenDraws() {
        PretrainViews v = new PretrainViews(cfg().pretrain());
        GrayImage img = texture(70, 90);
        float[] a = new float[v.viewLength()], b = new float[v.viewLength()], c = new float[v.viewLength()];
        v.view(img, new SplittableRandom(5), a, 0);
        v.view(img, new SplittableRandom(5), b, 0);
        v.view(img, new SplittableRandom(6), c, 0);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        float lo = (float) ((0 - 0.449) / 0.226), hi = (float) ((1 - 0.449) / 0.226);
        for (int i = 0; i < a.length; i += 3) {
            assertTrue(a[i] >= lo - 1e-5 && a[i] <= hi + 1e-5, "normalised value " + a[i]);
            assertEquals(a[i], a[i + 1], 0f, "channels replicate the gray value");
            assertEquals(a[i], a[i + 2], 0f);
        }
    }

    @Test
    void flipOnlyPipelineMirrorsTheNormalisedImage() {
        AugmentConfig.Pretrain p = cfg("pretrain.size=8", "pretrain.cropScale=1", "pretrain.cropRatio=1",
                "pretrain.jitterProbability=0", "pretrain.blurProbability=0", "pretrain.flipProbability=1",
                "pretrain.channels=1").pretrain();
        GrayImage img = texture(8, 8);
        float[] out = new float[64];
        new PretrainViews(p).view(img, new SplittableRandom(1), out, 0);
        for (int z = 0; z < 8; z++) {
            for (int x = 0; x < 8; x++) {
                assertEquals((img.get(z, 7 - x) - 0.449f) / 0.226f, out[z * 8 + x], 1e-5f);
            }
        }
    }

    @Test
    void cropBoxesFollowScaleAndRatio() {
        PretrainViews v = new PretrainViews(cfg().pretrain());
        SplittableRandom r = new SplittableRandom(2);
        double sumFraction = 0;
        int n = 2000;
        for (int i = 0; i < n; i++) {
            int[] b = v.cropBox(100, 140, r);
            assertTrue(b[0] >= 0 && b[1] >= 0 && b[0] + b[2] <= 100 && b[1] + b[3] <= 140, Arrays.toString(b));
            double ratio = (double) b[3] / b[2];
            assertTrue(ratio > 0.75 * 0.9 && ratio < 1.3334 / 0.9, "ratio " + ratio); // rounding of small boxes
            double fraction = (double) b[2] * b[3] / (100 * 140);
            assertTrue(fraction >= 0.19 && fraction <= 1, "area fraction " + fraction);
            sumFraction += fraction;
        }
        // scale ~ U(0.2, 1), but large boxes of the wrong shape do not fit and are redrawn, so the
        // mean area sits below 0.6 (0.48 here)
        double mean = sumFraction / n;
        assertTrue(mean > 0.4 && mean < 0.6, "mean crop area fraction " + mean);
    }

    @Test
    void brightnessJitterScalesEveryPixelByOneFactor() {
        AugmentConfig.Pretrain p = cfg("pretrain.size=16", "pretrain.cropScale=1", "pretrain.cropRatio=1",
                "pretrain.jitterProbability=1", "pretrain.contrast=0", "pretrain.brightness=0.4",
                "pretrain.blurProbability=0", "pretrain.flipProbability=0", "pretrain.channels=1", "pretrain.mean=0",
                "pretrain.std=1").pretrain();
        float[] px = new float[256];
        for (int i = 0; i < px.length; i++) {
            px[i] = 0.1f + 0.5f * (i % 7) / 7;
        }
        GrayImage img = new GrayImage(16, 16, px);
        for (int seed = 0; seed < 5; seed++) {
            float[] out = new float[256];
            new PretrainViews(p).view(img, new SplittableRandom(seed), out, 0);
            double f = out[3] / px[3];
            assertTrue(f >= 0.6 - 1e-6 && f <= 1.4 + 1e-6, "brightness factor " + f);
            for (int i = 0; i < 256; i++) {
                assertEquals(Math.min(1, px[i] * f), out[i], 1e-5, "pixel " + i);
            }
        }
    }

    @Test
    void segmentationKeepsImageAndMaskAligned() {
        // no photometric change: the mask must equal the thresholded image wherever it is not padding
        AugmentConfig.Segmentation s = cfg("segmentation.brightnessDelta=0", "segmentation.contrast=1",
                "segmentation.channels=1", "segmentation.mean=0", "segmentation.std=1", "segmentation.crop=[64, 48]",
                "segmentation.scale=[256, 64]").segmentation();
        int h = 60, w = 80;
        float[] px = new float[h * w];
        byte[] lab = new byte[h * w];
        for (int z = 0; z < h; z++) {
            for (int x = 0; x < w; x++) {
                boolean fg = (z / 12 + x / 16) % 2 == 0;
                px[z * w + x] = fg ? 0.9f : 0.1f;
                lab[z * w + x] = (byte) (fg ? 1 : 0);
            }
        }
        SegDataset.Item item = new SegDataset.Item("t", new GrayImage(h, w, px), new LabelImage(h, w, lab));
        SegAugment aug = new SegAugment(s);
        int padded = 0, agree = 0, total = 0;
        for (int seed = 0; seed < 20; seed++) {
            SegSample out = aug.apply(item, new SplittableRandom(seed));
            assertEquals(64, out.height());
            assertEquals(48, out.width());
            for (int i = 0; i < out.labels().length; i++) {
                int l = out.labels()[i] & 0xff;
                if (l == 255) {
                    assertEquals(0f, out.image()[i], 0f, "padding is 0 after normalisation");
                    padded++;
                    continue;
                }
                total++;
                agree += (out.image()[i] > 0.5f) == (l == 1) ? 1 : 0;
            }
        }
        // bilinear resizing blends pixels along block edges only: >= 95 % agree
        assertTrue(agree >= 0.95 * total, "image/mask agreement " + agree + " of " + total);
        assertTrue(padded > 0, "ratio 0.5 must shrink some images below the crop: padding expected");
        assertArrayEquals(aug.apply(item, new SplittableRandom(4)).image(), aug.apply(item, new SplittableRandom(4)).image());
    }

    @Test
    void catMaxRatioPrefersCropsWithSeveralClasses() {
        int h = 128, w = 128;
        byte[] lab = new byte[h * w];
        for (int z = 80; z < 120; z++) {
            for (int x = 10; x < 50; x++) {
                lab[z * w + x] = 1; // an object in one corner, big enough to fill a quarter of a crop
            }
        }
        LabelImage l = new LabelImage(h, w, lab);
        SegAugment strict = new SegAugment(cfg("segmentation.catMaxRatio=0.75").segmentation());
        SegAugment loose = new SegAugment(cfg("segmentation.catMaxRatio=1").segmentation());
        int withStrict = 0, withLoose = 0;
        SplittableRandom r1 = new SplittableRandom(1), r2 = new SplittableRandom(1);
        for (int i = 0; i < 300; i++) {
            withStrict += containsObject(strict.cropBox(l, 48, 48, r1), lab, w) ? 1 : 0;
            withLoose += containsObject(loose.cropBox(l, 48, 48, r2), lab, w) ? 1 : 0;
        }
        assertTrue(withStrict > 2 * withLoose, "crops with the object: " + withStrict + " vs " + withLoose);
    }

    private static boolean containsObject(int[] box, byte[] lab, int w) {
        for (int z = box[0]; z < box[0] + 48; z++) {
            for (int x = box[1]; x < box[1] + 48; x++) {
                if (lab[z * w + x] == 1) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void configIsStrict() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> cfg("pretrain.channels=2"));
        assertTrue(e.getMessage().contains("channels"), e.getMessage());
        var e2 = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> cfg("pretrain.blurSigmas=[1, 2]"));
        assertTrue(e2.getMessage().contains("blurSigmas"), e2.getMessage());
    }
}
